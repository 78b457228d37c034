/// Whether and how a node runs its copy of a shard: a pure function of the shard's catalog entry, so the node's
/// reconciler and the cluster simulation decide alike.
///
/// The rule it keeps (ARCHITECTURE.md, "A shard's voters come from placement and nowhere else"): in a cluster a
/// group opens only with voters that placement chose. A shard without a placement is a bug the node refuses to
/// open; it never falls back to leading the shard alone, which once made every node of a young cluster hold a
/// diverging, unreplicated copy of each new stream.
public enum ReplicaPlan {
    /// How the node runs: one of several members, or a one-node cluster by explicit choice.
    public enum Mode: Sendable, Equatable {
        case cluster
        case singleNode
    }

    public enum Decision: Sendable, Equatable {
        /// Not placed on this node: no copy here.
        case notHeld
        /// Open the group. `voters` is the membership an empty log starts from until its leader says otherwise;
        /// with `setAsideOlderCopy`, a copy this node made before the shard was healed must be set aside first.
        case open(voters: [UInt64], setAsideOlderCopy: Bool)
        /// The catalog has no placement for the shard: never opened (the controller heals it).
        case unplaced
    }

    public static func decide(_ shard: ShardMetadata, me: UInt64, mode: Mode) -> Decision {
        switch mode {
        case .singleNode:
            // A one-node cluster holds every shard, placed or (from before placement) not, alone.
            return .open(voters: [me], setAsideOlderCopy: false)
        case .cluster:
            guard let replicas = shard.replicas, !replicas.isEmpty else { return .unplaced }
            guard replicas.contains(me) || shard.leaving?.contains(me) == true else { return .notHeld }
            let healedElsewhere = shard.healedFrom.map { $0 != me } ?? false
            return .open(voters: shard.initialReplicas ?? replicas, setAsideOlderCopy: healedElsewhere)
        }
    }
}
