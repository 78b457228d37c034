import RillModel

extension Raft {
    /// Majority arithmetic over a voter set (Raft §5.2, §5.3).
    public enum Quorum {
        /// The outcome of an election so far.
        public enum VoteResult: Sendable, Equatable {
            case won, lost, pending
        }

        /// The size of a majority of `voterCount` voters.
        public static func majority(of voterCount: Int) -> Int { voterCount / 2 + 1 }

        /// The highest index that a majority of `voters` hold, given each voter's match index (absent counts as 0).
        public static func committedIndex(voters: Set<NodeID>, match: [NodeID: LogIndex]) -> LogIndex {
            guard !voters.isEmpty else { return .zero }
            let sorted = voters.map { match[$0] ?? .zero }.sorted(by: >)
            return sorted[majority(of: voters.count) - 1]
        }

        /// Tallies `votes` (granted or rejected) of members; votes of non-voters do not count.
        public static func voteResult(voters: Set<NodeID>, votes: [NodeID: Bool]) -> VoteResult {
            var granted = 0
            var rejected = 0
            for voter in voters {
                switch votes[voter] {
                case true?: granted += 1
                case false?: rejected += 1
                case nil: break
                }
            }
            let needed = majority(of: voters.count)
            if granted >= needed { return .won }
            if voters.count - rejected < needed { return .lost }
            return .pending
        }
    }
}
