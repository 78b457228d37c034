import RillModel

extension Raft {
    /// A node's role (Raft §5.1, thesis §9.6 for the pre-candidate).
    public enum Role: Sendable, Equatable, CustomStringConvertible {
        case follower, preCandidate, candidate, leader

        public var description: String {
            switch self {
            case .follower: "follower"
            case .preCandidate: "pre-candidate"
            case .candidate: "candidate"
            case .leader: "leader"
            }
        }
    }

    /// What must survive a crash (Raft Figure 2 "persistent state", plus the commit index so a restart can
    /// re-apply without waiting for a leader).
    public struct HardState: Sendable, Equatable, CustomStringConvertible {
        public var term: Term
        public var vote: NodeID?
        public var commit: LogIndex

        public init(term: Term = .zero, vote: NodeID? = nil, commit: LogIndex = .zero) {
            self.term = term
            self.vote = vote
            self.commit = commit
        }

        public var description: String { "term=\(term) vote=\(vote.map(\.description) ?? "-") commit=\(commit)" }
    }

    /// What the shell may show but need not persist.
    public struct SoftState: Sendable, Equatable, CustomStringConvertible {
        public var leader: NodeID?
        public var role: Role

        public var description: String { "leader=\(leader.map(\.description) ?? "-") role=\(role)" }
    }

    /// One batch of work for the shell. Handle it in this order, then call `advance(_:)` with it:
    ///
    /// 1. send `messages` (they may go out before anything is durable: a leader's appends, thesis §10.2.1);
    /// 2. write `snapshot` to the node's `LogStorage` (discard the stored log, start after it), then `entries`
    ///    (discarding stored entries at or after the first one's index), then save `hardState`, and sync;
    /// 3. send `messagesAfterPersist` (votes and append acknowledgements promise durable state, Raft §5.2, §5.3);
    /// 4. install `snapshot` into the state machine, then apply `committedEntries` in order;
    /// 5. call `advance(_:)`: only now may the core drop `entries` from memory and read them from storage.
    public struct Ready: Sendable, Equatable {
        /// The term, vote and commit to persist, when they changed.
        public var hardState: HardState?
        /// Leader and role, when they changed.
        public var softState: SoftState?
        /// A snapshot received from the leader, to persist and install.
        public var snapshot: Snapshot?
        /// Entries to append to stable storage. Stored entries at or after the first one's index are stale
        /// (overwritten by a new leader, Raft §5.3) and must be discarded first; see `truncateFrom`.
        public var entries: [LogEntry]
        /// Messages that may be sent at once.
        public var messages: [Message]
        /// Messages to send only after this Ready's entries and hard state are durable.
        public var messagesAfterPersist: [Message]
        /// Committed entries to apply, in order.
        public var committedEntries: [LogEntry]

        /// The index from which stored entries are replaced, when `entries` is not empty.
        public var truncateFrom: LogIndex? { entries.first?.index }

        /// Whether there is nothing to do.
        public var isEmpty: Bool {
            hardState == nil && softState == nil && snapshot == nil && entries.isEmpty && messages.isEmpty
                && messagesAfterPersist.isEmpty && committedEntries.isEmpty
        }
    }

    /// Timing and flow-control settings. Ticks are the only time the core knows.
    public struct Options: Sendable, Equatable {
        /// A follower campaigns after a random timeout in [electionTicks, 2 × electionTicks) (Raft §5.2).
        public var electionTicks: Int
        /// The leader sends heartbeats every `heartbeatTicks`.
        public var heartbeatTicks: Int
        /// Run a pre-vote round before a real election (thesis §9.6).
        public var preVote: Bool
        /// A leader steps down when a majority has not answered within an election timeout (thesis §6.2), and
        /// voters ignore vote requests while they hear from a leader.
        public var checkQuorum: Bool
        /// The most entries in one append.
        public var maxEntriesPerAppend: Int
        /// The most pipelined appends per follower.
        public var maxInflightAppends: Int
        /// The most bytes (by `Raft.entrySize`) in one append; an append carries at least one entry.
        public var maxAppendBytes: Int
        /// The most bytes of committed entries one Ready hands out to apply (at least one entry); the rest follow
        /// in later Readys, so a restart far behind its commit point never reads the whole log at once.
        public var maxApplyBytes: Int
        /// When a leader's commit index moves, tell followers at once with an append of its own to each
        /// (etcd-io/raft). Off, the new commit index rides on the next append, or on the append that answers
        /// the next heartbeat response: followers learn it up to one heartbeat later, and a stream of writes
        /// costs one exchange per entry instead of two. Only followers' apply lags; what the leader commits,
        /// acknowledges and applies is unchanged, and so is safety (commit is volatile state in Raft).
        public var eagerCommitNotice: Bool

        public init(
            electionTicks: Int = 10,
            heartbeatTicks: Int = 1,
            preVote: Bool = true,
            checkQuorum: Bool = true,
            maxEntriesPerAppend: Int = 64,
            maxInflightAppends: Int = 64,
            maxAppendBytes: Int = 4 << 20,
            maxApplyBytes: Int = 64 << 20,
            eagerCommitNotice: Bool = true
        ) {
            precondition(heartbeatTicks > 0 && electionTicks > heartbeatTicks, "need 0 < heartbeat < election ticks")
            self.electionTicks = electionTicks
            self.heartbeatTicks = heartbeatTicks
            self.preVote = preVote
            self.checkQuorum = checkQuorum
            self.maxEntriesPerAppend = max(1, maxEntriesPerAppend)
            self.maxInflightAppends = max(1, maxInflightAppends)
            self.maxAppendBytes = max(1, maxAppendBytes)
            self.maxApplyBytes = max(1, maxApplyBytes)
            self.eagerCommitNotice = eagerCommitNotice
        }
    }
}
