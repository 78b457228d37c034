import RillChaos
import RillKinesis

/// The open shards of a stream and their hash ranges, from a ListShards reply: what the churn needs to choose
/// a split point or a pair to merge. Pure, so it can be tested on canned replies.
enum ShardRanges {
    /// One open shard: its id and inclusive hash key range.
    struct Shard: Sendable, Equatable {
        var id: String
        var start: UInt128
        var end: UInt128
    }

    /// The shards of `shards` (ListShards `Shards`) with no ending sequence number, by starting hash key.
    static func open(_ shards: [JSONObject]) -> [Shard] {
        shards.compactMap { shard -> Shard? in
            guard let id = shard.string("ShardId"), case .object(let range)? = shard["HashKeyRange"],
                let start = range.string("StartingHashKey").flatMap(UInt128.init),
                let end = range.string("EndingHashKey").flatMap(UInt128.init)
            else { return nil }
            if case .object(let sequences)? = shard["SequenceNumberRange"],
                sequences.string("EndingSequenceNumber") != nil
            {
                return nil
            }
            return Shard(id: id, start: start, end: end)
        }.sorted { $0.start < $1.start }
    }

    /// Each shard of `shards` (ListShards `Shards`) with the shards it came from: `ParentShardId`, then
    /// `AdjacentParentShardId` for a merge.
    static func lineage(_ shards: [JSONObject]) -> [LineageEvent.Shard] {
        shards.compactMap { shard in
            shard.string("ShardId").map { id in
                LineageEvent.Shard(
                    shard: id,
                    parents: [shard.string("ParentShardId"), shard.string("AdjacentParentShardId")].compactMap { $0 }
                )
            }
        }
    }

    /// A starting hash key for the upper half of `shard`, or nil if it covers a single key.
    static func middle(of shard: Shard) -> String? {
        guard shard.end > shard.start else { return nil }
        return String(shard.start + (shard.end - shard.start) / 2 + 1)
    }

    /// Neighbouring open shards, each pair in hash order, that MergeShards accepts.
    static func adjacentPairs(_ open: [Shard]) -> [(Shard, Shard)] {
        zip(open, open.dropFirst()).filter { $0.0.end < UInt128.max && $0.0.end + 1 == $0.1.start }
    }
}
