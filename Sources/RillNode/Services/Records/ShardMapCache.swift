import RillKinesis
import RillRouting
import Synchronization

/// Shard maps by stream id, with the shard count they were parsed at: routing every PutRecord by a fresh map
/// parsed each shard's decimal hash range per call.
final class ShardMapCache: Sendable {
    private let maps = Mutex<[String: (shardCount: Int, map: ShardMap)]>([:])

    init() {}

    /// The stream's shard map, parsed once per shard layout.
    func map(for stream: StreamMetadata) -> ShardMap {
        if let cached = maps.withLock({ $0[stream.id] }), cached.shardCount == stream.shards.count {
            return cached.map
        }
        let map = ShardMap(stream)
        maps.withLock { maps in
            // Bounded by the streams in use: a deleted stream's map goes with the next miss of another.
            if maps.count > 1024 { maps.removeAll() }
            maps[stream.id] = (stream.shards.count, map)
        }
        return map
    }
}
