import RillKinesis
import RillModel
import Synchronization

/// This node's `ShardWriteMeter`, fed by the records service after each durable write to an on-demand shard
/// and read by the controller's scaling round (here or on the metadata leader, by `PeerCall.writeTotals`).
/// Provisioned streams are not metered: their hot path pays nothing for it.
final class OnDemandWrites: Sendable {
    private let meter = Mutex(ShardWriteMeter())

    /// Counts records written durably to `shard` of `stream`, when the stream is on demand.
    func record(_ stream: StreamMetadata, shard: ShardID, bytes: Int, hashKeys: some Collection<HashKey>) {
        guard stream.mode == .onDemand else { return }
        let key = ShardWriteMeter.Key(streamID: stream.id, shard: shard.index)
        meter.withLock { $0.record(key, bytes: bytes, hashKeys: hashKeys) }
    }

    /// Every metered shard's running totals; forgets streams no longer in `onDemandStreams` first.
    func totals(keeping onDemandStreams: Set<String>) -> [ShardWriteMeter.Totals] {
        meter.withLock { meter in
            meter.keep(streams: onDemandStreams)
            return meter.totals
        }
    }
}
