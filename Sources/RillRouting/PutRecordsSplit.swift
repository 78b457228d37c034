import RillKinesis
import RillModel

/// A PutRecords split by shard: which of the request's records (by their place in it, the slot) go to which
/// open shard. Parts come in the order of their first record; within a part slots keep request order. A node
/// appends each part as one entry on the shard's leader; a router sends each part to that leader as a
/// PutRecords of its own. Both merge the outcomes with `PutRecordsMerge`.
public struct PutRecordsSplit: Sendable {
    public struct Part: Sendable {
        /// The open shard, as the map's version of the stream has it.
        public let shard: ShardMetadata
        /// Where the shard sits in `stream.shards` (the same in every later version with as many shards).
        public let position: Int
        public let slots: [Int]
    }

    public let parts: [Part]

    /// Splits records with these hash keys by the open shards of `map`. InternalFailure when a key falls in no
    /// open shard, which only a stream without open shards can cause.
    public init(hashKeys: [HashKey], map: ShardMap) throws(KinesisError) {
        var partOfPosition: [Int: Int] = [:]
        var found: [(shard: ShardMetadata, position: Int, slots: [Int])] = []
        for (slot, key) in hashKeys.enumerated() {
            let (shard, position) = try map.route(key)
            if let part = partOfPosition[position] {
                found[part].slots.append(slot)
            } else {
                partOfPosition[position] = found.count
                found.append((shard, position, [slot]))
            }
        }
        parts = found.map { Part(shard: $0.shard, position: $0.position, slots: $0.slots) }
    }
}
