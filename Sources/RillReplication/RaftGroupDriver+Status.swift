import RillModel
import RillRaft

/// What a group looks like from this member: for status pages, metrics, routing and tests.
extension RaftGroupDriver {
    /// What the group looks like from here, for status pages and tests.
    public struct Status: Sendable, Equatable {
        public var role: Raft.Role
        public var leader: NodeID?
        public var term: Term
        public var commit: LogIndex
        public var applied: LogIndex
        public var lastIndex: LogIndex
        /// This member lost its disk and may not vote yet (`Raft.Core.abstainUntilCaughtUp`).
        public var abstaining: Bool = false
        /// On a leader, how many entries the furthest-behind follower lacks; 0 elsewhere.
        public var maxFollowerLag: UInt64 = 0
        /// The group is idle and this member has stopped ticking it (see `tick()`).
        public var resting: Bool = false
        /// The group's members as this member knows them (the newest appended configuration).
        public var configuration = Raft.Configuration(voters: [])
        /// A leader that has applied an entry of its own term: only then does its applied index cover every
        /// write acknowledged under earlier leaders (Raft §8), so only then may it serve reads.
        public var appliedInTerm = false
    }

    /// Role, leader, term and positions right now.
    public var status: Status {
        Status(
            role: node.role,
            leader: node.leader,
            term: node.term,
            commit: node.commitIndex,
            applied: node.appliedIndex,
            lastIndex: node.log.lastIndex,
            abstaining: node.abstention != nil,
            maxFollowerLag: node.role == .leader
                ? node.progress.filter { $0.key != id }.map {
                    node.log.lastIndex.rawValue &- min($0.value.match.rawValue, node.log.lastIndex.rawValue)
                }.max() ?? 0
                : 0,
            resting: resting,
            configuration: node.configuration,
            appliedInTerm: leadership.appliedInTerm
        )
    }

    /// The status the group took as it began to rest; nil while it is awake (`RestCheck` compares it).
    public nonisolated var restingStatus: Status? { restingSnapshot.withLock { $0 } }

    /// `status` without a hop to the group's executor when the group rests (`restingSnapshot`), else by one.
    public nonisolated var sampledStatus: Status {
        get async {
            if let snapshot = restingSnapshot.withLock({ $0 }) { return snapshot }
            return await status
        }
    }

    /// The term this member leads in, once it has applied an entry of it (`Status.appliedInTerm`); nil otherwise.
    public var servingTerm: Term? { leadership.appliedInTerm ? node.term : nil }

    /// The term this member leads in (applied an entry of it or not); nil when it does not lead.
    public var leaderTerm: Term? { node.role == .leader ? node.term : nil }

    /// Role and leader only: what routing asks on every write, without the rest of `status`.
    public var leadership: (role: Raft.Role, leader: NodeID?, appliedInTerm: Bool) {
        (node.role, node.leader, node.role == .leader && node.log.term(at: node.appliedIndex) == node.term)
    }
}
