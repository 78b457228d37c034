import RillKinesis
import RillModel

extension ClusterEvent {
    /// The event for a catalog change a node applied, or nil for a change not worth a line (tags, leases,
    /// barriers; a removed member has its own event). Its time is the entry's stamp, the metadata leader's clock
    /// when it proposed the change: the same on every node, so the console shows one line seen by all of them.
    public static func catalogChange(_ command: CatalogCommand, stampMillis: Int64) -> ClusterEvent? {
        switch command {
        case .createStream(let create):
            let shards = create.shardCount == 1 ? "1 shard" : "\(create.shardCount) shards"
            return ClusterEvent(
                timeMillis: stampMillis,
                kind: .streamCreated,
                group: create.id,
                detail: "\(create.name): \(shards), \(create.mode.rawValue)"
            )
        case .deleteStream(_, let name):
            return ClusterEvent(timeMillis: stampMillis, kind: .streamDeleted, detail: name)
        case .reshard(let reshard):
            let parents = reshard.parents.map { ShardID(index: $0.index).name }
            let what =
                parents.count == 1
                ? "split \(parents[0]) into \(reshard.children.count)"
                : "merged \(parents.joined(separator: " and "))"
            return ClusterEvent(timeMillis: stampMillis, kind: .resharded, detail: "\(reshard.name): \(what)")
        default:
            return nil
        }
    }
}
