import RillModel

/// A stream's open shards ordered by hash range, their decimal keys parsed once: routing a record is then a
/// binary search. `StreamMetadata.openShard(for:)` parses every shard's range per call, which was a tenth of
/// a router's time on a 500-record PutRecords.
public struct ShardMap: Sendable {
    /// Open shards by ascending starting hash key, with each one's parsed range.
    private let entries: [(range: HashRange, shard: ShardMetadata)]

    public init(_ stream: StreamMetadata) {
        entries = stream.shards.filter(\.isOpen).map { ($0.hashRange, $0) }.sorted { $0.range.start < $1.range.start }
    }

    /// The open shard whose range holds `key`; nil only for a stream with no open shards (open shards tile
    /// the hash space).
    public func shard(for key: HashKey) -> ShardMetadata? {
        var low = 0
        var high = entries.count
        // The first entry whose range ends at or after `key`.
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].range.end < key { low = middle + 1 } else { high = middle }
        }
        guard low < entries.count, entries[low].range.contains(key) else { return nil }
        return entries[low].shard
    }
}
