import RillModel

extension SWIM {
    /// "Member `leader` led `group` in `term`", as some member last knew it. A router uses it to send a request
    /// straight to the leader; a wrong hint costs one NotLeader redirect, never data.
    public struct LeadershipHint: Hashable, Sendable, CustomStringConvertible {
        public var group: RaftGroupID
        public var term: Term
        public var leader: NodeID

        public init(group: RaftGroupID, term: Term, leader: NodeID) {
            self.group = group
            self.term = term
            self.leader = leader
        }

        /// Whether this hint should replace `other` for the same group: Raft has at most one leader per term
        /// (Raft §5.2), so the newer term wins; the id only makes the choice deterministic on bad input.
        func supersedes(_ other: LeadershipHint) -> Bool {
            (term, leader.rawValue) > (other.term, other.leader.rawValue)
        }

        public var description: String { "\(group)@\(term)=\(leader)" }
    }
}

extension SWIM.LeadershipHint {
    /// One hint per group, the newest term winning, sorted by group so equal sets compare and encode equal.
    static func canonical(_ hints: some Sequence<SWIM.LeadershipHint>) -> [SWIM.LeadershipHint] {
        var byGroup: [RaftGroupID: SWIM.LeadershipHint] = [:]
        for hint in hints {
            if let existing = byGroup[hint.group], !hint.supersedes(existing) { continue }
            byGroup[hint.group] = hint
        }
        // Keyed once: `RaftGroupID.<` formats both ids per comparison, which was most of a node's gossip work
        // with a thousand shards.
        return byGroup.values.map { ($0.group.description, $0) }.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
