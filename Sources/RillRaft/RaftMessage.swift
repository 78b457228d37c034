import RillModel

extension Raft {
    /// A message between two members of one Raft group. The runtime multiplexes groups, so no group id here.
    public struct Message: Sendable, Equatable, CustomStringConvertible {
        public var from: NodeID
        public var to: NodeID
        /// The sender's term, or for a pre-vote request the term the sender would campaign in (thesis §9.6).
        public var term: Term
        public var body: Body

        public init(from: NodeID, to: NodeID, term: Term, body: Body) {
            self.from = from
            self.to = to
            self.term = term
            self.body = body
        }

        public var description: String { "\(from)->\(to) term=\(term) \(body)" }
    }

    /// What a message says. Each case is one RPC of the Raft paper or thesis.
    public enum Body: Sendable, Equatable, CustomStringConvertible {
        /// AppendEntries (Raft §5.3): `entries` follow the entry at (`prevIndex`, `prevTerm`).
        case appendEntries(prevIndex: LogIndex, prevTerm: Term, entries: [LogEntry], commit: LogIndex)
        /// The answer to `appendEntries` or `installSnapshot`.
        case appendResponse(AppendResult)
        /// A leader's liveness beacon; `commit` is capped at what the follower is known to hold.
        case heartbeat(commit: LogIndex)
        /// The answer to `heartbeat`; also sent to bump a stale leader's term (thesis §6.2, §9.6).
        case heartbeatResponse
        /// RequestVote (Raft §5.2), or PreVote (thesis §9.6) when `preVote` is set. `transfer` marks a
        /// campaign started by TimeoutNow, which may disrupt a live leader (thesis §3.10).
        case requestVote(lastIndex: LogIndex, lastTerm: Term, preVote: Bool, transfer: Bool)
        /// The answer to `requestVote`.
        case voteResponse(granted: Bool, preVote: Bool)
        /// Leadership transfer (thesis §3.10): the receiver campaigns at once.
        case timeoutNow
        /// InstallSnapshot (Raft §7): replaces the receiver's log below `snapshot.index`.
        case installSnapshot(Snapshot)

        public var description: String {
            switch self {
            case .appendEntries(let prevIndex, let prevTerm, let entries, let commit):
                let list = entries.map { "\($0.term)/\($0.index)" }.joined(separator: ",")
                return "App prev=\(prevTerm)/\(prevIndex) commit=\(commit) entries=[\(list)]"
            case .appendResponse(.accepted(let matchIndex)): return "AppResp match=\(matchIndex)"
            case .appendResponse(.rejected(let index, let hintIndex, let hintTerm)):
                return "AppResp reject=\(index) hint=\(hintTerm)/\(hintIndex)"
            case .heartbeat(let commit): return "Heartbeat commit=\(commit)"
            case .heartbeatResponse: return "HeartbeatResp"
            case .requestVote(let lastIndex, let lastTerm, let preVote, let transfer):
                return "\(preVote ? "PreVote" : "Vote") last=\(lastTerm)/\(lastIndex)\(transfer ? " transfer" : "")"
            case .voteResponse(let granted, let preVote):
                return "\(preVote ? "PreVoteResp" : "VoteResp") \(granted ? "granted" : "rejected")"
            case .timeoutNow: return "TimeoutNow"
            case .installSnapshot(let snapshot): return "Snapshot \(snapshot.term)/\(snapshot.index)"
            }
        }
    }

    /// A follower's verdict on an append (Raft §5.3), with the fast back-off hint of etcd-io/raft.
    public enum AppendResult: Sendable, Equatable {
        /// The follower's log matches the leader's through `matchIndex`.
        case accepted(matchIndex: LogIndex)
        /// The entry at `index` did not match. (`hintIndex`, `hintTerm`) is the follower's last entry at or before
        /// `index` whose term is not above the probed term: the leader skips a whole term per round trip
        /// instead of one index (Raft §5.3, "the follower can include the term of the conflicting entry").
        case rejected(index: LogIndex, hintIndex: LogIndex, hintTerm: Term)
    }
}
