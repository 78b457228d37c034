import RillAPI
import RillKinesis
import RillModel

/// The events of one SubscribeToShard call: records as they are committed, an empty event at least every
/// second while idle (so ContinuationSequenceNumber and MillisBehindLatest advance), and the end after
/// five minutes or at the end of a closed shard.
public struct ShardSubscription: EventSubscription {
    /// The node's clock, catalog, keys and storage threads this subscription reads with.
    let source: ShardSubscriptions
    let stream: StreamMetadata
    let shard: ShardMetadata
    let replica: ShardReplica
    var position: LogPosition
    let startedMillis: Int64
    /// Held while any copy of the subscription exists; the consumer and shard are free again once it is gone.
    let lease: SubscriptionLease
    /// The consumer's name, CloudWatch's `ConsumerName` dimension.
    let consumerName: String
    /// Holds the subscription to 2 MiB/s when the node enforces throughput limits; nil when it does not.
    var pacer: FanOutPacer?
    var lastEventMillis: Int64 = 0
    var finished = false

    /// A subscription ends cleanly after five minutes; the client re-subscribes from its continuation.
    static let lifetimeMillis: Int64 = 300_000
    static let idleEventMillis: Int64 = 1_000
    static let pollInterval: Duration = .milliseconds(100)

    init(
        source: ShardSubscriptions,
        stream: StreamMetadata,
        shard: ShardMetadata,
        replica: ShardReplica,
        position: LogPosition,
        startedMillis: Int64,
        lease: SubscriptionLease,
        consumerName: String,
        pacer: FanOutPacer?
    ) {
        self.pacer = pacer
        self.lease = lease
        self.consumerName = consumerName
        self.source = source
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
            let now = source.clock.nowMillis()
            if now - startedMillis >= Self.lifetimeMillis { return nil }
            let current = source.metadata.catalog.stream(stream.name, in: stream.namespace)
            guard let current, current.id == stream.id, let shardNow = current.shard(shard.id) else {
                finished = true
                return .exception(
                    .resourceNotFound,
                    message: "Stream \(stream.name) under account \(stream.namespace.account) not found."
                )
            }
            let horizon = now - Int64(current.retentionHours) * 3_600_000
            // An event carries at most what the consumer's 2 MiB/s allows; once that is spent, it waits.
            let maxBytes: Int
            switch pacer?.next(nowMillis: now) {
            case .wait(let millis)?:
                try await Task.sleep(for: .milliseconds(millis))
                continue
            case .send(let allowance)?: maxBytes = allowance
            case nil: maxBytes = FanOutPacer.maxEventBytes
            }
            let replica = self.replica
            let from = position
            let opener = source.recordKeys.opener(for: current)
            let page = try await source.threadPool.runIfActive {
                try ShardReader(replica: replica, opener: opener).read(
                    from: from,
                    limit: 10_000,
                    maxBytes: maxBytes,
                    horizonMillis: horizon
                )
            }
            position = page.next
            let ended = shardNow.sealIndex.map { page.next.index.rawValue >= $0 } ?? false
            if !page.records.isEmpty || ended || now - lastEventMillis >= Self.idleEventMillis {
                lastEventMillis = now
                if ended { finished = true }
                pacer?.sent(bytes: page.byteCount, nowMillis: now)
                source.metrics.subscriptionEventSent(
                    current,
                    consumer: consumerName,
                    records: page.records.count,
                    bytes: page.byteCount,
                    millisBehindLatest: ended ? 0 : page.millisBehindLatest,
                    atMillis: now
                )
                return .event(
                    "SubscribeToShardEvent",
                    payload: eventPayload(page, shard: shardNow, in: current, ended: ended)
                )
            }
            try await Task.sleep(for: Self.pollInterval)
        }
    }

    private func eventPayload(
        _ page: ShardReader.Page,
        shard: ShardMetadata,
        in stream: StreamMetadata,
        ended: Bool
    ) -> [UInt8] {
        var w = JSONWriter(capacity: page.byteCount * 4 / 3 + 256 * page.records.count + 256)
        w.beginObject()
        w.key("Records")
        page.writeRecords(sequencedBy: replica, &w)
        // KCL reads a missing continuation as SHARD_END, so it is omitted only at the end of a closed shard.
        if !ended {
            w.key("ContinuationSequenceNumber")
            w.string(continuation(page).description)
        }
        w.key("MillisBehindLatest")
        w.int(ended ? 0 : page.millisBehindLatest)
        if ended {
            w.key("ChildShards")
            RecordsService.writeChildShards(of: shard, in: stream, &w)
        }
        w.endObject()
        return w.bytes
    }

    /// The number after which a re-subscription continues: the last record sent, or the position just
    /// before the next one when the event carries none.
    private func continuation(_ page: ShardReader.Page) -> SequenceNumber {
        if let last = page.records.last {
            return replica.sequenceNumber(
                index: last.position.index,
                slot: last.position.slot,
                stampMillis: last.stampMillis
            )
        }
        let before =
            page.next.slot > 0
            ? LogPosition(index: page.next.index, slot: page.next.slot - 1)
            : LogPosition(index: page.next.index.previous, slot: .max)
        return replica.sequenceNumber(index: before.index, slot: before.slot, stampMillis: 0)
    }
}
