import RillModel

/// When records that a shard refused as sealed may be routed again, by a shard map fetched after the refusal.
/// A reshard seals its parents first and commits the catalog change that closes them a moment later (one
/// metadata commit, then the answering node's apply), so a map fetched in between still shows the refusing
/// parent open and sends the records straight back to it: a router that fetched once was refused again and
/// failed those records with InternalFailure. The sender fetches the map again until none of the shards that
/// refused is open in it — or, past `limit`, routes by the map as it is: a reshard whose catalog change never
/// commits reopens the parents it sealed, and the records then belong to them.
public enum SealedRouting {
    public enum Step: Equatable, Sendable {
        /// Route the records again by this map.
        case route
        /// The map still shows a shard that refused open: fetch it again.
        case fetchAgain
    }

    /// What to do with `map`, fetched `waited` after the first refusal by the shards in `refused`.
    public static func step(map: ShardMap, refused: Set<ShardID>, waited: Duration, limit: Duration) -> Step {
        if waited >= limit || !refused.contains(where: map.isOpen) { return .route }
        return .fetchAgain
    }
}
