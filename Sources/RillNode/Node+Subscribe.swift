import RillKinesis
import RillModel

extension Node {
    /// Starts a SubscribeToShard call: validates it (errors here are ordinary HTTP errors) and returns the
    /// subscription that yields its events.
    public func subscribe(_ request: APIRequest) async throws -> ShardSubscription {
        var r = try request.reader()
        let namespace = Namespace(account: configuration.accountID, region: request.signedRegion ?? configuration.defaultRegion)
        let consumerARN = try r.string("ConsumerARN", required: true, min: 1, max: 2048, pattern: .consumerARN)
        let shardText = try r.string("ShardId", required: true, min: 1, max: 128, pattern: .shardId)
        let start = try r.object("StartingPosition", required: true)
        var type: ShardIteratorType?
        var sequence: String?
        var timestamp: Int64?
        if let start {
            type = try r.enumeration("Type", in: start, path: "startingPosition.type", required: true, as: ShardIteratorType.self)
            sequence = try r.string("SequenceNumber", in: start, path: "startingPosition.sequenceNumber", pattern: .sequenceNumber)
            timestamp = try r.timestamp("Timestamp", in: start)
        }
        try r.finish()
        guard let consumerARN, let shardText, let type else { throw KinesisError(.validation, "missing members") }
        guard case .consumer(let arn, let consumerName, let created)? = ResourceARN(parsing: consumerARN) else {
            throw KinesisError(.invalidArgument, "Invalid ConsumerARN: \(consumerARN)")
        }
        let (stream, resolved) = try resolve(StreamSelector(name: arn.streamName, arn: arn), namespace)
        guard stream.consumers?.contains(where: { $0.name == consumerName && $0.createdSeconds == created }) == true else {
            throw KinesisError(.resourceNotFound, "Consumer \(consumerARN) not found.")
        }
        guard let shardID = ShardID(parsing: shardText), let shard = stream.shard(shardID) else {
            throw KinesisError.shardNotFound(shardText, stream: stream.name, account: resolved.account)
        }
        let replica = try await subscriptionReplica(stream: stream, shard: shard)
        let position = try await startPosition(
            type: type, startingText: sequence, timestamp: timestamp, stream: stream, shard: shard, namespace: resolved,
            replica: { _, _ in replica })
        // Last, so a call refused for any other reason holds nothing.
        let lease = try subscriptionLeases.acquire(consumerARN: consumerARN, shard: shard.id.name)
        return ShardSubscription(
            node: self, stream: stream, shard: shard, replica: replica, position: position, startedMillis: clock.nowMillis(),
            lease: lease)
    }
}

extension Node {
    /// A subscription reads this node's replica of the shard, leader or not (pushed records trail the leader by
    /// a heartbeat at most); a node without one sends the client to the shard's leader's API address.
    func subscriptionReplica(stream: StreamMetadata, shard: ShardMetadata) async throws -> ShardReplica {
        if cluster == nil { return try await replica(for: stream, shard: shard) }
        if let local = localReplica(streamID: stream.id, shard: shard.index) { return local }
        throw KinesisError.internalFailure(
            "This node holds no replica of \(shard.id.name); subscribe through a node that does (its replicas are nodes \(shard.replicas ?? [])).")
    }
}

/// The events of one SubscribeToShard call: records as they are committed, an empty event at least every
/// second while idle (so ContinuationSequenceNumber and MillisBehindLatest advance), and the end after
/// five minutes or at the end of a closed shard.
public struct ShardSubscription: Sendable {
    let node: Node
    let stream: StreamMetadata
    let shard: ShardMetadata
    let replica: ShardReplica
    var position: LogPosition
    let startedMillis: Int64
    /// Held while any copy of the subscription exists; the consumer and shard are free again once it is gone.
    let lease: SubscriptionLease
    var lastEventMillis: Int64 = 0
    var finished = false

    /// A subscription ends cleanly after five minutes; the client re-subscribes from its continuation.
    static let lifetimeMillis: Int64 = 300_000
    static let idleEventMillis: Int64 = 1_000
    static let pollInterval: Duration = .milliseconds(100)

    init(
        node: Node, stream: StreamMetadata, shard: ShardMetadata, replica: ShardReplica, position: LogPosition,
        startedMillis: Int64, lease: SubscriptionLease
    ) {
        self.lease = lease
        self.node = node
        self.stream = stream
        self.shard = shard
        self.replica = replica
        self.position = position
        self.startedMillis = startedMillis
    }

    /// The mandatory first message.
    public var initialResponse: EventStreamMessage {
        .event("initial-response", payload: Array("{}".utf8))
    }

    /// The next event, or nil when the subscription is over. Throws when the task is cancelled.
    public mutating func next() async throws -> EventStreamMessage? {
        guard !finished else { return nil }
        while true {
            try Task.checkCancellation()
            let now = node.clock.nowMillis()
            if now - startedMillis >= Self.lifetimeMillis { return nil }
            let current = node.metadata.catalog.stream(stream.name, in: stream.namespace)
            guard let current, current.id == stream.id, let shardNow = current.shard(shard.id) else {
                finished = true
                return .exception(.resourceNotFound, message: "Stream \(stream.name) under account \(stream.namespace.account) not found.")
            }
            let horizon = now - Int64(current.retentionHours) * 3_600_000
            let replica = self.replica
            let from = position
            let page = try await node.threadPool.runIfActive {
                try ShardReader(replica: replica).read(from: from, limit: 10_000, maxBytes: 10 << 20, horizonMillis: horizon)
            }
            position = page.next
            let ended = shardNow.sealIndex.map { page.next.index.rawValue >= $0 } ?? false
            if !page.records.isEmpty || ended || now - lastEventMillis >= Self.idleEventMillis {
                lastEventMillis = now
                if ended { finished = true }
                return .event("SubscribeToShardEvent", payload: eventPayload(page, shard: shardNow, in: current, ended: ended))
            }
            try await Task.sleep(for: Self.pollInterval)
        }
    }

    private func eventPayload(_ page: ShardReader.Page, shard: ShardMetadata, in stream: StreamMetadata, ended: Bool) -> [UInt8] {
        var w = JSONWriter(capacity: page.byteCount * 4 / 3 + 256 * page.records.count + 256)
        w.beginObject()
        w.key("Records"); page.writeRecords(sequencedBy: replica, &w)
        // KCL reads a missing continuation as SHARD_END, so it is omitted only at the end of a closed shard.
        if !ended {
            w.key("ContinuationSequenceNumber"); w.string(continuation(page).description)
        }
        w.key("MillisBehindLatest"); w.int(ended ? 0 : page.millisBehindLatest)
        if ended {
            w.key("ChildShards"); node.writeChildShards(of: shard, in: stream, &w)
        }
        w.endObject()
        return w.bytes
    }

    /// The number after which a re-subscription continues: the last record sent, or the position just
    /// before the next one when the event carries none.
    private func continuation(_ page: ShardReader.Page) -> SequenceNumber {
        if let last = page.records.last {
            return replica.sequenceNumber(index: last.position.index, slot: last.position.slot, stampMillis: last.stampMillis)
        }
        let before = page.next.slot > 0
            ? LogPosition(index: page.next.index, slot: page.next.slot - 1)
            : LogPosition(index: page.next.index.previous, slot: .max)
        return replica.sequenceNumber(index: before.index, slot: before.slot, stampMillis: 0)
    }
}
