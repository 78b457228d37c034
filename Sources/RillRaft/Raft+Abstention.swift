import RillModel

extension Raft {
    /// How far a member that lost its disk must catch up before it may vote again.
    public struct Abstention: Sendable, Equatable {
        /// The term of the first leader heard from: a leader elected without this member.
        public var leaderTerm: Term?
        /// That leader's commit index when first heard from.
        public var until: LogIndex
    }
}

extension Raft.Node {
    /// Makes this member abstain: no votes, no campaigns, until it holds everything a leader elected
    /// without it had committed when they first spoke (ARCHITECTURE.md: damaged replicas never vote).
    ///
    /// A member whose log was wiped or cut by damage forgot entries it acknowledged and votes it cast. Its
    /// acknowledgements from now on are truthful (it acknowledges only what it wrote), but a vote from it
    /// could elect a leader missing a committed entry, or be a second vote in a term it already voted in.
    /// Once caught up, it records a vote for the current leader, so it cannot vote again in that term.
    public mutating func abstainUntilCaughtUp() {
        abstention = Raft.Abstention(leaderTerm: nil, until: .zero)
    }

    /// Called on every accepted message from a leader while abstaining.
    mutating func noteLeaderContact(commit: LogIndex) {
        guard var pending = abstention, let leader else { return }
        if pending.leaderTerm == nil {
            pending.leaderTerm = term
            pending.until = commit
        }
        guard log.lastIndex >= pending.until else {
            abstention = pending
            return
        }
        if vote == nil { vote = leader }
        abstention = nil
    }
}
