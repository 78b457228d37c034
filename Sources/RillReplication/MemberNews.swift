import RillModel

/// What the node learned about a member (from gossip or the transport) that may change what a group waiting on
/// it should do (`RaftGroupDriver.wakeUp(_:)`). Any news wakes a resting group.
public struct MemberNews: Sendable, Equatable {
    /// A member whose process may be gone or be a new one: its followers stop counting on it and campaign within
    /// an election timeout unless it speaks first, or spoke within the last heartbeat interval to a follower that
    /// was ticking (`Raft.Core.leaderSuspected`).
    public var mayBeGone: NodeID?
    /// A member whose process is gone for certain: its peer port refused the redial after its connection closed
    /// (`PeerTransport.onPeerGone`). As `mayBeGone`, except that no follower ignores it for having heard the
    /// leader a moment ago: the news is fresher than any heartbeat.
    public var isGone: NodeID?
    /// A member that answers again, often as a new process: a leader of it stays awake, heartbeating, until it
    /// answers (`RaftGroupDriver.awaitingAnswer`), so that its replicas learn who leads without waiting for a
    /// resting leader's next nudge.
    public var isBack: NodeID?

    public init(mayBeGone: NodeID? = nil, isGone: NodeID? = nil, isBack: NodeID? = nil) {
        self.mayBeGone = mayBeGone
        self.isGone = isGone
        self.isBack = isBack
    }

    /// Nothing about any member: only wake.
    public static let none = MemberNews()
}
