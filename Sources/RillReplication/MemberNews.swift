import RillModel

/// What the node learned about a member (from gossip or the transport) that may change what a group waiting on
/// it should do (`RaftGroupDriver.wakeUp(_:)`). Any news wakes a resting group.
public struct MemberNews: Sendable, Equatable {
    /// A member whose process may be gone or be a new one: its followers stop counting on it and campaign within
    /// an election timeout unless it speaks first (`Raft.Core.leaderSuspected`).
    public var mayBeGone: NodeID?
    /// A member that answers again, often as a new process: a leader of it stays awake, heartbeating, until it
    /// answers (`RaftGroupDriver.awaitingAnswer`), so that its replicas learn who leads without waiting for a
    /// resting leader's next nudge.
    public var isBack: NodeID?

    public init(mayBeGone: NodeID? = nil, isBack: NodeID? = nil) {
        self.mayBeGone = mayBeGone
        self.isBack = isBack
    }

    /// Nothing about any member: only wake.
    public static let none = MemberNews()
}
