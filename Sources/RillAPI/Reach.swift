import RillKinesis

/// How far a node may send a call to a group's leader (ARCHITECTURE.md, "One forwarder"). The budget belongs
/// to the client call that asked for the write, passed down with it, never inherited by a task: a node's own
/// internal calls (a reshard's seal, a reconfiguration, a catalog proposal) go to the leader wherever it is,
/// even while the node serves a forwarded client call.
public enum Reach: Sendable, Equatable {
    /// To whichever node leads the group, following redirects until the forward deadline: a client call
    /// that reached this node first, and the node's own internal calls.
    case leader
    /// Served on this node or refused with NotLeader: the client call was forwarded here, so its one hop is
    /// spent and another is the sender's to make.
    case here
}

extension APIRequest {
    /// How far this call's writes may go from the node serving it.
    public var reach: Reach { forwarded ? .here : .leader }
}

extension KinesisOperation {
    /// Calls routed by shard (to the shard's leader); all others go to the metadata leader.
    public var isDataPlane: Bool {
        switch self {
        case .putRecord, .putRecords, .getRecords, .getShardIterator, .subscribeToShard: true
        default: false
        }
    }
}
