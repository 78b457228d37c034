/// A group that rests on a node (it stopped ticking because every member holds the whole log), as that node's
/// replica sees it: what the node tells the other members' nodes once a second (the leader's node) or the
/// leader's node (a follower's), so that they can say whether their replicas agree (`RestCheck`).
public struct RestingGroup: Sendable, Equatable {
    public var group: RaftGroupID
    /// The term the replica rests in.
    public var term: Term
    /// Who the replica believes leads (itself, on the leader).
    public var leader: NodeID
    /// The replica's commit index, which is also its last and applied index (a replica rests only then).
    public var commit: LogIndex

    public init(group: RaftGroupID, term: Term, leader: NodeID, commit: LogIndex) {
        self.group = group
        self.term = term
        self.leader = leader
        self.commit = commit
    }
}
