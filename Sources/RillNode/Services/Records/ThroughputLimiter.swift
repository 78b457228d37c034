import RillKinesis
import RillModel
import Synchronization

/// This node's lead of a shard, as the throughput limits see it: the term it leads in and the stamp of the newest
/// record its log holds when it starts counting (`ShardThroughput.takingOver`).
struct ShardLead: Sendable, Equatable {
    var term: UInt64
    var newestRecordMillis: Int64?
}

/// The per-shard throughput limits (`--throughput-limits`; `rill up` turns them on): a `ShardThroughput` per shard
/// this node leads, for writes and reads, on provisioned and on-demand streams alike (AWS's per-shard limits apply
/// to both; the on-demand scaler splits a shard that stays hot). The buckets live on the shard's leader, which is
/// where every write of the shard is admitted, and start over with each new term as `ShardThroughput.takingOver`
/// says, so a failover opens no burst window.
final class ThroughputLimiter: Sendable {
    struct ThrottleKey: Hashable {
        var streamID: String
        var shard: UInt32
    }

    struct Entry {
        var term: UInt64
        var buckets: ShardThroughput
    }

    let enabled: Bool
    let clock: any WallClock
    let metrics: NodeMetrics
    private let throttles = Mutex<[ThrottleKey: Entry]>([:])

    init(enabled: Bool, clock: any WallClock, metrics: NodeMetrics) {
        self.enabled = enabled
        self.clock = clock
        self.metrics = metrics
    }

    /// AWS's message for a record or call over its shard's limit.
    static func rateExceeded(_ shard: ShardID, _ stream: StreamMetadata) -> KinesisError {
        KinesisError(
            .provisionedThroughputExceeded,
            "Rate exceeded for shard \(shard.name) in stream \(stream.name) under account \(stream.namespace.account)."
        )
    }

    /// Runs `body` on the shard's buckets as the leader in `lead` holds them: a term this node has not counted
    /// in yet starts them over (`ShardThroughput.takingOver`).
    private func withBuckets<T>(
        _ stream: StreamMetadata,
        _ shard: ShardID,
        lead: ShardLead?,
        now: Int64,
        _ body: (inout ShardThroughput) -> T
    ) -> T {
        throttles.withLock { table in
            let key = ThrottleKey(streamID: stream.id, shard: shard.index)
            var entry: Entry
            if let found = table[key], lead == nil || found.term == lead?.term {
                entry = found
            } else {
                entry = Entry(
                    term: lead?.term ?? 0,
                    buckets: .takingOver(nowMillis: now, newestRecordMillis: lead?.newestRecordMillis)
                )
            }
            let result = body(&entry.buckets)
            table[key] = entry
            return result
        }
    }

    /// Admits each record of `sizes` bytes (data plus partition key) alone, in order, on the shard's leader; one
    /// verdict per record, all true when limits are off. Refusals are counted.
    func admitWrites(_ stream: StreamMetadata, _ shard: ShardID, lead: ShardLead, sizes: [Int]) -> [Bool] {
        guard enabled else { return Array(repeating: true, count: sizes.count) }
        let now = clock.nowMillis()
        let verdicts = withBuckets(stream, shard, lead: lead, now: now) { $0.admitWrites(sizes: sizes, nowMillis: now) }
        let refused = verdicts.filter { !$0 }.count
        if refused > 0 { metrics.writeThrottled(stream, shard: shard, records: refused, atMillis: now) }
        return verdicts
    }

    /// Admits a batch another node sends this leader to append whole (`PeerCall.append`): every record, or none
    /// (each then counted as refused).
    func admitBatch(_ stream: StreamMetadata, _ shard: ShardID, lead: ShardLead, sizes: [Int]) -> Bool {
        guard enabled else { return true }
        let now = clock.nowMillis()
        let admitted = withBuckets(stream, shard, lead: lead, now: now) { $0.admitAll(sizes: sizes, nowMillis: now) }
        if !admitted { metrics.writeThrottled(stream, shard: shard, records: sizes.count, atMillis: now) }
        return admitted
    }

    /// Admits one GetRecords call on the shard's leader, or throws ProvisionedThroughputExceededException.
    func admitRead(_ stream: StreamMetadata, _ shard: ShardID, lead: ShardLead?) throws(KinesisError) {
        guard enabled else { return }
        let now = clock.nowMillis()
        let admitted = withBuckets(stream, shard, lead: lead, now: now) { $0.admitRead(nowMillis: now) }
        guard admitted else {
            metrics.readThrottled(stream, shard: shard, atMillis: now)
            throw Self.rateExceeded(shard, stream)
        }
    }

    /// Charges what a GetRecords call returned.
    func chargeRead(_ stream: StreamMetadata, _ shard: ShardID, bytes: Int) {
        guard enabled else { return }
        let now = clock.nowMillis()
        withBuckets(stream, shard, lead: nil, now: now) { $0.chargeRead(bytes: bytes, nowMillis: now) }
    }

    /// A pacer for one enhanced fan-out subscription (2 MiB/s), or nil when limits are off.
    func fanOutPacer() -> FanOutPacer? {
        enabled ? FanOutPacer(nowMillis: clock.nowMillis()) : nil
    }
}
