import RillKinesis

// MARK: - Rill's consumer-group API (docs/consumers.md), for `rill trigger`

extension KinesisClient {
    /// A lease as AcquireLeases and RenewLease answer it: enough for a worker to read and checkpoint its shard.
    public struct GroupLease: Sendable, Equatable {
        public var shardID: String
        public var token: Int
        /// The last processed record's sequence number (`AT_SEQUENCE_NUMBER`); nil when `INITIAL`.
        public var checkpoint: String?
        /// `SHARD_END`: the closed shard is finished.
        public var finished: Bool
    }

    /// A group's `InitialPosition` and failover time, from CreateConsumerGroup or DescribeConsumerGroup.
    public struct GroupDescription: Sendable {
        public var initialPosition: ShardLineage.StartPosition
        public var failoverMillis: Int
    }

    /// Creates the group starting at `position`, or describes it when it already exists (its own initial
    /// position wins then, as a Lambda event source mapping keeps the position it was created with).
    public func createOrDescribeGroup(
        stream: String,
        group: String,
        position: ShardLineage.StartPosition
    ) async throws(CallError) -> GroupDescription {
        let reply: JSONObject
        do throws(CallError) {
            reply = try await consumerCall(.createConsumerGroup) { writer in
                Self.names(&writer, stream: stream, group: group)
                writer.key("InitialPosition")
                writer.beginObject()
                writer.key("Type")
                switch position {
                case .trimHorizon: writer.string("TRIM_HORIZON")
                case .latest: writer.string("LATEST")
                case .atTimestamp(let seconds):
                    writer.string("AT_TIMESTAMP")
                    writer.key("Timestamp")
                    writer.timestamp(millis: Int64((seconds * 1000).rounded(.down)))
                }
                writer.endObject()
            }
        } catch  where error.code == "ResourceInUseException" {
            reply = try await consumerCall(.describeConsumerGroup) { writer in
                Self.names(&writer, stream: stream, group: group)
            }
        }
        guard let description = KinesisReply.object(reply, "ConsumerGroup"),
            let failover = KinesisReply.int(description, "FailoverTimeMillis"),
            let initial = KinesisReply.object(description, "InitialPosition"),
            let type = KinesisReply.string(initial, "Type")
        else { throw CallError(code: "CreateConsumerGroup", message: "the answer has no ConsumerGroup") }
        let start: ShardLineage.StartPosition
        switch type {
        case "LATEST": start = .latest
        case "AT_TIMESTAMP":
            guard case .number(let text)? = initial["Timestamp"], let seconds = Double(text) else {
                throw CallError(code: "CreateConsumerGroup", message: "AT_TIMESTAMP without a Timestamp")
            }
            start = .atTimestamp(seconds)
        default: start = .trimHorizon
        }
        return GroupDescription(initialPosition: start, failoverMillis: failover)
    }

    /// AcquireLeases: the leases the worker holds after the call (its fair share, KCL's balancing).
    public func acquireLeases(stream: String, group: String, worker: String) async throws(CallError) -> [GroupLease] {
        let reply = try await consumerCall(.acquireLeases) { writer in
            Self.names(&writer, stream: stream, group: group)
            writer.key("WorkerId")
            writer.string(worker)
        }
        return (KinesisReply.array(reply, "Leases") ?? []).compactMap { value in
            guard case .object(let lease) = value else { return nil }
            return Self.lease(lease)
        }
    }

    /// One lease round of a worker (docs/consumers.md, "A worker's loop"): RenewLease for each lease in `held`
    /// (a refusal means the lease moved on; the answer then leaves it out), then AcquireLeases, whose answer is
    /// every lease the worker holds now, its fair share included.
    public func leaseRound(
        stream: String,
        group: String,
        worker: String,
        held: [(shard: String, token: Int)]
    ) async throws(CallError) -> [GroupLease] {
        for (shard, token) in held {
            do throws(CallError) {
                try await renewLease(stream: stream, group: group, worker: worker, shard: shard, token: token)
            } catch  where error.code == "ResourceInUseException" {
                continue
            }
        }
        return try await acquireLeases(stream: stream, group: group, worker: worker)
    }

    /// Releases every lease of `held` (shard id → token) in shard order, so other workers take the shards at once
    /// rather than after the failover time; a release that fails is handed to `failed` (that lease then expires).
    public func releaseLeases(
        stream: String,
        group: String,
        worker: String,
        _ held: [String: Int],
        failed: (String, CallError) -> Void
    ) async {
        for (shard, token) in held.sorted(by: { $0.key < $1.key }) {
            do throws(CallError) {
                try await releaseLease(stream: stream, group: group, worker: worker, shard: shard, token: token)
            } catch {
                failed(shard, error)
            }
        }
    }

    /// RenewLease; a `ResourceInUseException` means the lease is lost.
    public func renewLease(
        stream: String,
        group: String,
        worker: String,
        shard: String,
        token: Int
    ) async throws(CallError) {
        _ = try await consumerCall(.renewLease) { writer in
            Self.lease(&writer, stream: stream, group: group, worker: worker, shard: shard, token: token)
        }
    }

    public func releaseLease(
        stream: String,
        group: String,
        worker: String,
        shard: String,
        token: Int
    ) async throws(CallError) {
        _ = try await consumerCall(.releaseLease) { writer in
            Self.lease(&writer, stream: stream, group: group, worker: worker, shard: shard, token: token)
        }
    }

    /// Checkpoint with the lease's token: `sequenceNumber` (every record up to it processed), or the shard's end
    /// when nil.
    public func checkpoint(
        stream: String,
        group: String,
        worker: String,
        shard: String,
        token: Int,
        sequenceNumber: String?
    ) async throws(CallError) {
        _ = try await consumerCall(.checkpoint) { writer in
            Self.lease(&writer, stream: stream, group: group, worker: worker, shard: shard, token: token)
            if let sequenceNumber {
                writer.key("SequenceNumber")
                writer.string(sequenceNumber)
            } else {
                writer.key("ShardEnd")
                writer.bool(true)
            }
        }
    }

    /// The stream's ARN, for events that name their source.
    public func streamARN(stream: String) async throws(CallError) -> String {
        let reply = try await consumerCall(.describeStreamSummary) { writer in
            writer.key("StreamName")
            writer.string(stream)
        }
        guard let summary = KinesisReply.object(reply, "StreamDescriptionSummary"),
            let arn = KinesisReply.string(summary, "StreamARN")
        else { throw CallError(code: "DescribeStreamSummary", message: "the answer has no StreamARN") }
        return arn
    }

    private static func names(_ writer: inout JSONWriter, stream: String, group: String) {
        writer.key("StreamName")
        writer.string(stream)
        writer.key("GroupName")
        writer.string(group)
    }

    private static func lease(
        _ writer: inout JSONWriter,
        stream: String,
        group: String,
        worker: String,
        shard: String,
        token: Int
    ) {
        names(&writer, stream: stream, group: group)
        writer.key("WorkerId")
        writer.string(worker)
        writer.key("ShardId")
        writer.string(shard)
        writer.key("LeaseToken")
        writer.int(token)
    }

    private static func lease(_ object: JSONObject) -> GroupLease? {
        guard let shard = KinesisReply.string(object, "ShardId"), let token = KinesisReply.int(object, "LeaseToken")
        else { return nil }
        let checkpoint = KinesisReply.object(object, "Checkpoint")
        let type = checkpoint.flatMap { KinesisReply.string($0, "Type") }
        return GroupLease(
            shardID: shard,
            token: token,
            checkpoint: type == "AT_SEQUENCE_NUMBER"
                ? checkpoint.flatMap { KinesisReply.string($0, "SequenceNumber") } : nil,
            finished: type == "SHARD_END"
        )
    }
}

extension KinesisClient {
    /// PutRecord of one record (an on-failure destination's); returns its sequence number.
    public func consumerPutRecord(stream: String, partitionKey: String, data: [UInt8]) async throws(CallError) -> String
    {
        let reply = try await consumerCall(.putRecord) { writer in
            writer.key("StreamName")
            writer.string(stream)
            writer.key("PartitionKey")
            writer.string(partitionKey)
            writer.key("Data")
            writer.base64(data)
        }
        return KinesisReply.string(reply, "SequenceNumber") ?? ""
    }
}
