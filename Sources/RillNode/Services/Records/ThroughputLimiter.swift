import NIOConcurrencyHelpers
import RillKinesis
import RillModel

/// The throughput limits of provisioned shards (`--throughput-limits`): a token bucket per shard, for writes
/// and reads. Off by default, like the emulators.
final class ThroughputLimiter: Sendable {
    struct ThrottleKey: Hashable {
        var streamID: String
        var shard: UInt32
    }

    let enabled: Bool
    let clock: any WallClock
    let metrics: NodeMetrics
    /// Throughput buckets of provisioned shards.
    private let throttles = NIOLockedValueBox<[ThrottleKey: ShardThroughput]>([:])

    init(enabled: Bool, clock: any WallClock, metrics: NodeMetrics) {
        self.enabled = enabled
        self.clock = clock
        self.metrics = metrics
    }

    static func rateExceeded(_ shard: ShardID, _ stream: StreamMetadata) -> KinesisError {
        KinesisError(
            .provisionedThroughputExceeded,
            "Rate exceeded for shard \(shard.name) in stream \(stream.name) under account \(stream.namespace.account)."
        )
    }

    /// Admits a record to a provisioned shard, or says it is over its limit. Always true when limits are off
    /// (the default, like the emulators) and for ON_DEMAND streams.
    func admitWrite(_ stream: StreamMetadata, _ shard: ShardID, bytes: Int) -> Bool {
        guard enabled, stream.mode == .provisioned else { return true }
        let now = clock.nowMillis()
        let admitted = throttles.withLockedValue { table in
            let key = ThrottleKey(streamID: stream.id, shard: shard.index)
            var bucket = table[key] ?? ShardThroughput(nowMillis: now)
            let admitted = bucket.admitWrite(bytes: bytes, nowMillis: now)
            table[key] = bucket
            return admitted
        }
        if !admitted { metrics.writeThrottled(stream, shard: shard, atMillis: now) }
        return admitted
    }

    func admitRead(_ stream: StreamMetadata, _ shard: ShardID) throws(KinesisError) {
        guard enabled, stream.mode == .provisioned else { return }
        let now = clock.nowMillis()
        let admitted = throttles.withLockedValue { table in
            let key = ThrottleKey(streamID: stream.id, shard: shard.index)
            var bucket = table[key] ?? ShardThroughput(nowMillis: now)
            let admitted = bucket.admitRead(nowMillis: now)
            table[key] = bucket
            return admitted
        }
        guard admitted else {
            metrics.readThrottled(stream, shard: shard, atMillis: now)
            throw Self.rateExceeded(shard, stream)
        }
    }

    func chargeRead(_ stream: StreamMetadata, _ shard: ShardID, bytes: Int) {
        guard enabled, stream.mode == .provisioned else { return }
        let now = clock.nowMillis()
        throttles.withLockedValue { table in
            let key = ThrottleKey(streamID: stream.id, shard: shard.index)
            var bucket = table[key] ?? ShardThroughput(nowMillis: now)
            bucket.chargeRead(bytes: bytes, nowMillis: now)
            table[key] = bucket
        }
    }
}
