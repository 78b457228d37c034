import RillModel

extension Raft {
    /// Marks a member that lost its disk and may not vote yet (`Raft.Core.abstainUntilCaughtUp`).
    public struct Abstention: Sendable, Equatable {
        public init() {}
    }
}

extension Raft.Core {
    /// Makes this member abstain: no votes, no campaigns, until it holds every entry committed so far
    /// (ARCHITECTURE.md: damaged replicas never vote).
    ///
    /// A member whose log was wiped or cut by damage forgot entries it acknowledged and votes it cast. Its
    /// acknowledgements from now on are truthful (it acknowledges only what it wrote), but a vote from it
    /// could elect a leader missing a committed entry, or be a second vote in a term it already voted in.
    ///
    /// It stops abstaining on an append from the current leader whose commit index C it holds with the
    /// leader's own term: a leader's commit reaching an entry of its own term means every entry committed
    /// before, in any term, is at or below C (Raft §5.4.2), and so is every entry this member ever
    /// acknowledged. It then records a vote for that leader, so it cannot vote again in that term.
    /// Heartbeats do not count: their commit index is capped at what the leader knows we hold.
    public mutating func abstainUntilCaughtUp() {
        abstention = Raft.Abstention()
    }

    /// Called after an accepted append from the leader while abstaining; `commit` is the leader's.
    mutating func noteLeaderAppend(commit: LogIndex) {
        guard abstention != nil, let leader, commit > .zero, log.lastIndex >= commit, log.term(at: commit) == term
        else { return }
        if vote == nil { vote = leader }
        abstention = nil
    }
}
