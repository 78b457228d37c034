import RillChaos
import RillKinesis
import Synchronization

/// The shards of the stream under test as last listed. The reshard nemesis changes them; the health wait, the
/// leader targets and the final read follow what it lists after each reshard.
final class StreamShards: Sendable {
    /// One ListShards answer, in the forms the run needs.
    struct Listing: Sendable {
        /// Every shard, closed parents included (ListShards names them while their records are retained), by id.
        var all: [String]
        /// The open shards by starting hash key.
        var open: [ShardRanges.Shard]
        var lineage: [LineageEvent.Shard]

        init(_ shards: [JSONObject]) {
            all = shards.compactMap { $0.string("ShardId") }.sorted()
            open = ShardRanges.open(shards)
            lineage = ShardRanges.lineage(shards)
        }

        init(ids: [String]) {
            all = ids.sorted()
            open = []
            lineage = ids.map { LineageEvent.Shard(shard: $0) }
        }
    }

    private let listing: Mutex<Listing>

    init(_ listing: Listing) {
        self.listing = Mutex(listing)
    }

    var current: Listing { listing.withLock { $0 } }

    func update(_ new: Listing) { listing.withLock { $0 = new } }
}
