import RillKinesis
import RillModel

/// A stream's open shards ordered by hash range, their decimal keys parsed once: routing a record is then a
/// binary search. `StreamMetadata.openShard(for:)` parses every shard's range per call, which was a tenth of
/// a router's time on a 500-record PutRecords.
public struct ShardMap: Sendable {
    /// Open shards by ascending starting hash key, with each one's parsed range and place in `stream.shards`.
    private let entries: [(range: HashRange, shard: ShardMetadata, position: Int)]

    public init(_ stream: StreamMetadata) {
        entries = stream.shards.indices.filter { stream.shards[$0].isOpen }
            .map { (stream.shards[$0].hashRange, stream.shards[$0], $0) }
            .sorted { $0.range.start < $1.range.start }
    }

    /// The open shard whose range holds `key`; nil only for a stream with no open shards (open shards tile
    /// the hash space).
    public func shard(for key: HashKey) -> ShardMetadata? {
        entry(for: key)?.shard
    }

    /// Whether `shard` is open in this version of the stream.
    public func isOpen(_ shard: ShardID) -> Bool {
        entries.contains { $0.shard.id == shard }
    }

    /// Where the open shard holding `key` sits in `stream.shards`. Shards are only ever appended, and a
    /// reshard closes parents in the same command that appends children, so the map stays right for every
    /// later version of the stream with as many shards; read the shard itself from that version.
    public func position(for key: HashKey) -> Int? {
        entry(for: key)?.position
    }

    /// The open shard a record goes to, and its place in `stream.shards`: its ExplicitHashKey when it has one,
    /// else the MD5 of its partition key (`RecordRouting.hashKey`), looked up in the map. InvalidArgument for a
    /// malformed ExplicitHashKey; InternalFailure when no open shard covers the key (a stream with none open).
    /// The one place a record of PutRecord finds its shard, on nodes and routers alike.
    public func route(
        partitionKey: String,
        explicitHashKey: String?
    ) throws(KinesisError) -> (shard: ShardMetadata, position: Int) {
        try route(RecordRouting.hashKey(partitionKey: partitionKey, explicitHashKey: explicitHashKey))
    }

    /// The open shard holding `key` and its place in `stream.shards`; InternalFailure when none does.
    public func route(_ key: HashKey) throws(KinesisError) -> (shard: ShardMetadata, position: Int) {
        guard let found = entry(for: key) else {
            throw KinesisError.internalFailure("No open shard covers hash key \(key)")
        }
        return (found.shard, found.position)
    }

    private func entry(for key: HashKey) -> (range: HashRange, shard: ShardMetadata, position: Int)? {
        var low = 0
        var high = entries.count
        // The first entry whose range ends at or after `key`.
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].range.end < key { low = middle + 1 } else { high = middle }
        }
        guard low < entries.count, entries[low].range.contains(key) else { return nil }
        return entries[low]
    }
}
