import RillModel

/// What a node does with records a router (or another node) forwarded to it as the leader of the one shard
/// they route to in the sender's shard map, once the node has routed them by its own map: the one rule for a
/// forwarded PutRecord and PutRecords (`Reach.here`: the node serves them or says where to go, never a second
/// hop).
///
/// A sender routes each forwarded call's records to a single shard. When the node's map puts them on several
/// shards, the sender's map is older than a split: the parent it routed by is closed and its children may be
/// led by different nodes. A redirect cannot help then (each child's leader would send the call to the other's,
/// until the sender's deadline: after every split, a router's PutRecords spanning the children failed for 4 s,
/// the forward deadline, until its 10 s shard map expired). The node refuses such a call before writing
/// anything, as a sealed shard refuses an append, so the sender fetches the current map and splits again.
public enum ForwardedAppend: Equatable, Sendable {
    /// Every shard the records route to is led here.
    case serve
    /// One node (or nobody yet: nil, an election) leads every shard the records route to: send it there.
    case redirect(NodeID?)
    /// The records span shards led by different nodes (or not known to be led by one): nothing was written;
    /// route them again by the current shard map (`ShardSealed`).
    case routeAgain

    /// Decides from the leaders of the shards the records route to here (nil: not known, an election may be
    /// under way), one per shard, in any order.
    public static func decide(leaders: [NodeID?], me: NodeID) -> ForwardedAppend {
        guard let first = leaders.first else { return .serve }
        if leaders.allSatisfy({ $0 == me }) { return .serve }
        // One shard: its leader (or the election under way) is the whole answer, as before any reshard.
        if leaders.count == 1 { return .redirect(first) }
        // Several shards led by one other node: that node can take the whole call.
        if let first, leaders.allSatisfy({ $0 == first }) { return .redirect(first) }
        return .routeAgain
    }

    /// Whether the node serving a forwarded call sends the appends of records it could not append where it
    /// routed them on to their shards' leaders itself (one more hop, as an append, never as a client call),
    /// rather than refusing them: once part of the call is decided (written, or failed alone), since the sender
    /// can no longer send the whole call on without writing that part twice; and for records a shard this node
    /// led a moment before redirected (its leadership moved between the check and the append), since sent
    /// back whole the call would come here again. Records a reshard sealed under a call of which nothing is
    /// decided go back to the sender instead (NotLeader or `shardSealed`). Before, such records came back as
    /// InternalFailure ("Internal Service Failure": the redirect the one-hop rule forbade following), though
    /// nothing of them was written — a router's PutRecords lost records after most splits and merges.
    public static func forwardsRerouted(forwarded: Bool, partDecided: Bool, redirected: Bool) -> Bool {
        forwarded && (partDecided || redirected)
    }
}
