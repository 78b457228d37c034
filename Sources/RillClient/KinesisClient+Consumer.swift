import NIOCore
import RillKinesis
import RillModel

// MARK: - Reading a stream for `rill tail`

extension KinesisClient {
    /// One record of a GetRecords reply, data decoded.
    public struct StreamRecord: Sendable {
        public var sequenceNumber: String
        public var partitionKey: String
        public var data: [UInt8]
        /// Seconds since the epoch, as the reply gives it.
        public var approximateArrivalTimestamp: Double?

        public init(sequenceNumber: String, partitionKey: String, data: [UInt8], approximateArrivalTimestamp: Double?) {
            self.sequenceNumber = sequenceNumber
            self.partitionKey = partitionKey
            self.data = data
            self.approximateArrivalTimestamp = approximateArrivalTimestamp
        }
    }

    /// A GetRecords reply: the records, the next iterator (nil once a closed shard is read to its end) and
    /// the children the reply names then.
    public struct RecordsPage: Sendable {
        public var records: [StreamRecord]
        public var nextShardIterator: String?
        public var millisBehindLatest: Int?
        public var childShards: [ShardLineage.Shard]
    }

    /// Why a consumer call failed: a Kinesis error code, or a transport failure (code "transport").
    public struct CallError: Error, Sendable, CustomStringConvertible {
        public var code: String
        public var message: String
        public var description: String { message.isEmpty ? code : "\(code): \(message)" }
        public var isThrottling: Bool {
            code == "ProvisionedThroughputExceededException" || code == "LimitExceededException"
                || code == "InternalFailure" || code == "ServiceUnavailable" || code == "transport"
        }
    }

    /// A call whose non-200 answers and transport failures throw `CallError`.
    func consumerCall(
        _ operation: KinesisOperation,
        _ build: (inout JSONWriter) -> Void
    ) async throws(CallError) -> JSONObject {
        var writer = JSONWriter()
        writer.beginObject()
        build(&writer)
        writer.endObject()
        let reply: HTTPReply
        do {
            reply = try await call(operation, body: ByteBuffer(bytes: writer.bytes), wire: .json)
        } catch {
            throw CallError(code: "transport", message: HTTPClientError.code(of: error))
        }
        guard reply.status == .ok else {
            let (code, message) = KinesisReply.error(in: reply)
            throw CallError(code: code, message: message)
        }
        do {
            return try KinesisReply.object(reply.body, operation: operation)
        } catch {
            throw CallError(code: "transport", message: "\(operation.rawValue) reply unreadable: \(error)")
        }
    }

    /// Every shard of the stream with its parents, following NextToken (bounded).
    public func shardLineage(stream: String) async throws(CallError) -> [ShardLineage.Shard] {
        var shards: [ShardLineage.Shard] = []
        var nextToken: String? = nil
        for _ in 0..<1000 {
            let reply = try await consumerCall(.listShards) { writer in
                if let nextToken {
                    writer.key("NextToken")
                    writer.string(nextToken)
                } else {
                    writer.key("StreamName")
                    writer.string(stream)
                }
            }
            for case .object(let shard) in KinesisReply.array(reply, "Shards") ?? [] {
                guard let id = KinesisReply.string(shard, "ShardId") else { continue }
                let parents = ["ParentShardId", "AdjacentParentShardId"].compactMap { KinesisReply.string(shard, $0) }
                let range = KinesisReply.object(shard, "SequenceNumberRange")
                let open = range.flatMap { KinesisReply.string($0, "EndingSequenceNumber") } == nil
                shards.append(ShardLineage.Shard(id: id, parents: parents, isOpen: open))
            }
            nextToken = KinesisReply.string(reply, "NextToken")
            if nextToken == nil { return shards }
        }
        throw CallError(code: "ListShards", message: "did not finish after 1000 pages")
    }

    /// The open shards and their hash ranges: where a producer predicts each key lands, as the KPL's shard map does.
    public func openShardRanges(stream: String) async throws(CallError) -> [(id: String, range: HashRange)] {
        var shards: [(id: String, range: HashRange)] = []
        var nextToken: String? = nil
        for _ in 0..<1000 {
            let reply = try await consumerCall(.listShards) { writer in
                if let nextToken {
                    writer.key("NextToken")
                    writer.string(nextToken)
                } else {
                    writer.key("StreamName")
                    writer.string(stream)
                    writer.key("ShardFilter")
                    writer.beginObject()
                    writer.key("Type")
                    writer.string("AT_LATEST")
                    writer.endObject()
                }
            }
            for case .object(let shard) in KinesisReply.array(reply, "Shards") ?? [] {
                guard let id = KinesisReply.string(shard, "ShardId"),
                    let range = KinesisReply.object(shard, "HashKeyRange"),
                    let start = KinesisReply.string(range, "StartingHashKey"),
                    let end = KinesisReply.string(range, "EndingHashKey"),
                    case .valid(let low) = HashKey.parse(start), case .valid(let high) = HashKey.parse(end), low <= high
                else { continue }
                if let sequences = KinesisReply.object(shard, "SequenceNumberRange"),
                    KinesisReply.string(sequences, "EndingSequenceNumber") != nil
                {
                    continue
                }
                shards.append((id, HashRange(start: low, end: high)))
            }
            nextToken = KinesisReply.string(reply, "NextToken")
            if nextToken == nil { return shards }
        }
        throw CallError(code: "ListShards", message: "did not finish after 1000 pages")
    }

    /// An iterator at `position`, or just after `afterSequenceNumber` when given (resuming an expired iterator).
    public func shardIterator(
        stream: String,
        shard: String,
        position: ShardLineage.StartPosition,
        afterSequenceNumber: String? = nil
    ) async throws(CallError) -> String {
        let reply = try await consumerCall(.getShardIterator) { writer in
            writer.key("StreamName")
            writer.string(stream)
            writer.key("ShardId")
            writer.string(shard)
            writer.key("ShardIteratorType")
            if let afterSequenceNumber {
                writer.string("AFTER_SEQUENCE_NUMBER")
                writer.key("StartingSequenceNumber")
                writer.string(afterSequenceNumber)
                return
            }
            switch position {
            case .latest: writer.string("LATEST")
            case .trimHorizon: writer.string("TRIM_HORIZON")
            case .atTimestamp(let seconds):
                writer.string("AT_TIMESTAMP")
                writer.key("Timestamp")
                writer.timestamp(millis: Int64((seconds * 1000).rounded(.down)))
            }
        }
        guard let iterator = KinesisReply.string(reply, "ShardIterator") else {
            throw CallError(code: "GetShardIterator", message: "no ShardIterator for \(shard)")
        }
        return iterator
    }

    public func getRecords(iterator: String, limit: Int = 10_000) async throws(CallError) -> RecordsPage {
        let reply = try await consumerCall(.getRecords) { writer in
            writer.key("ShardIterator")
            writer.string(iterator)
            writer.key("Limit")
            writer.int(limit)
        }
        var records: [StreamRecord] = []
        for case .object(let record) in KinesisReply.array(reply, "Records") ?? [] {
            guard let sequence = KinesisReply.string(record, "SequenceNumber"),
                let key = KinesisReply.string(record, "PartitionKey")
            else { continue }
            let data: [UInt8]
            do {
                data = try Base64.decode(KinesisReply.string(record, "Data") ?? "")
            } catch {
                throw CallError(code: "GetRecords", message: "record \(sequence) has data that is not base64")
            }
            var arrival: Double? = nil
            if case .number(let text)? = record["ApproximateArrivalTimestamp"] { arrival = Double(text) }
            records.append(
                StreamRecord(
                    sequenceNumber: sequence,
                    partitionKey: key,
                    data: data,
                    approximateArrivalTimestamp: arrival
                )
            )
        }
        var children: [ShardLineage.Shard] = []
        for case .object(let child) in KinesisReply.array(reply, "ChildShards") ?? [] {
            guard let id = KinesisReply.string(child, "ShardId") else { continue }
            let parents = (KinesisReply.array(child, "ParentShards") ?? []).compactMap { value -> String? in
                if case .string(let text) = value { return text }
                return nil
            }
            children.append(ShardLineage.Shard(id: id, parents: parents, isOpen: true))
        }
        return RecordsPage(
            records: records,
            nextShardIterator: KinesisReply.string(reply, "NextShardIterator"),
            millisBehindLatest: KinesisReply.int(reply, "MillisBehindLatest"),
            childShards: children
        )
    }
}
