import RillModel

extension Raft {
    /// One member of one Raft group, as a value: feed it events (`tick`, `step`, `propose`, ...), take its
    /// `ready()`, do the I/O, and `advance`. No clocks, sockets, files or threads inside (etcd-io/raft RawNode).
    public struct Core: Sendable {
        /// This member's id.
        public let id: NodeID
        public let options: Options

        // MARK: - Persistent state (Raft Figure 2)

        /// The latest term this node has seen.
        public internal(set) var term: Term
        /// Whom this node voted for in `term`.
        public internal(set) var vote: NodeID?
        /// The log: its compacted prefix, the stable entries in `log.storage` and the unstable tail in memory.
        public internal(set) var log: RaftLog

        // MARK: - Volatile state

        /// The highest index known committed.
        public internal(set) var commitIndex: LogIndex
        /// The highest index the shell has applied (confirmed through `advance`).
        public internal(set) var appliedIndex: LogIndex
        public internal(set) var role: Role = .follower
        /// The leader of `term`, when known.
        public internal(set) var leader: NodeID?
        /// The configuration in force: that of the last config entry in the log, whether committed or not
        /// (thesis §4.1: a server uses the latest configuration in its log).
        public internal(set) var configuration: Configuration
        /// The configuration at the log start (bootstrap or snapshot).
        var baseConfiguration: Configuration
        /// Config entries retained in the log, oldest first, so a truncation can restore the previous one.
        var configurationHistory: [(index: LogIndex, configuration: Configuration)] = []
        /// The snapshot this node holds, to send to followers below the log start.
        public internal(set) var snapshot: Snapshot?

        var electionElapsed = 0
        var heartbeatElapsed = 0
        var randomizedElectionTimeout = 0
        var random: SplitMix64

        // MARK: - Candidate and leader state

        /// Votes received in the current (pre-)election.
        var votes: [NodeID: Bool] = [:]
        /// Leader only: each member's replication progress, including the leader itself.
        public internal(set) var progress: [NodeID: Progress] = [:]
        /// Leader only: the index of the last config entry that may be uncommitted (thesis §4.1, one at a time).
        var pendingConfigurationIndex: LogIndex = .zero
        /// Leader only: the member leadership is being handed to (thesis §3.10).
        public internal(set) var transferTarget: NodeID?
        /// Set while this member, having lost its disk, must neither vote nor campaign (`Raft+Abstention.swift`).
        public internal(set) var abstention: Abstention?

        // MARK: - Handing work to the shell

        var pendingMessages: [Message] = []
        var pendingMessagesAfterPersist: [Message] = []
        /// Leader only: a proposal or a commit advance wants an append to every follower. It is sent when the
        /// shell takes the next `ready()`, so every proposal and commit notice since the last Ready leaves in one
        /// append per follower: sent at once, each concurrent proposal cost an append, a follower Ready and an
        /// answer of its own, and each answer's commit advance another round of empty appends.
        var replicationDue = false
        /// The first index not yet handed out in a `Ready`.
        var unstableFrom: LogIndex
        /// The last index the shell reported durable, consistent with the current log.
        public internal(set) var persistedIndex: LogIndex
        /// The last index handed out for applying.
        var applyingIndex: LogIndex
        var pendingSnapshot: Snapshot?
        var reportedHardState: HardState
        var reportedSoftState: SoftState

        /// Starts a node from what it finds on stable storage: `hardState` (term, vote, commit) and `storage`, the
        /// stable log (with its snapshot). Nothing is read into memory but the log's bounds and its config entries.
        /// `configuration` is the bootstrap configuration, used when neither the snapshot nor a config entry in
        /// the log says otherwise. `applied` is how far the shell's state machine already is (default: the
        /// snapshot; committed entries after it are handed out again). The election timeouts are drawn from a
        /// generator seeded once from `random`.
        public init(
            id: NodeID,
            configuration: Configuration,
            hardState: HardState = HardState(),
            storage: any LogStorage = MemoryStorage(),
            applied: LogIndex? = nil,
            options: Options = Options(),
            random: inout some RandomNumberGenerator
        ) {
            self.id = id
            self.options = options
            self.term = hardState.term
            self.vote = hardState.vote
            let log = RaftLog(storage: storage)
            self.log = log
            let snapshot = storage.snapshot.flatMap { $0.index == log.snapshotIndex ? $0 : nil }
            self.snapshot = snapshot
            let base = snapshot?.configuration ?? configuration
            self.baseConfiguration = base
            self.configuration = base
            // A commit beyond the stored log can only come from a damaged disk; never claim more than we hold.
            let commit = min(max(hardState.commit, log.snapshotIndex), log.lastIndex)
            self.commitIndex = commit
            let resumeFrom = min(max(applied ?? .zero, log.snapshotIndex), commit)
            self.appliedIndex = resumeFrom
            self.applyingIndex = resumeFrom
            self.unstableFrom = log.lastIndex.next
            self.persistedIndex = log.lastIndex
            self.random = SplitMix64(seed: random.next())
            self.reportedHardState = HardState(term: term, vote: vote, commit: commit)
            self.reportedSoftState = SoftState(leader: nil, role: .follower)
            if log.firstIndex <= log.lastIndex {
                for entry in storage.configurationEntries(from: log.firstIndex, through: log.lastIndex)
                where entry.kind == .config {
                    if let decoded = Configuration(decoding: entry.payload) {
                        configurationHistory.append((entry.index, decoded))
                    }
                }
            }
            self.configuration = configurationHistory.last?.configuration ?? base
            resetRandomizedElectionTimeout()
        }

        /// Whether this node may campaign: only voters stand for election (learners never do).
        public var isPromotable: Bool { configuration.voters.contains(id) && abstention == nil }

        /// The durable state the node currently holds in memory.
        public var hardState: HardState { HardState(term: term, vote: vote, commit: commitIndex) }

        /// The leader and role.
        public var softState: SoftState { SoftState(leader: leader, role: role) }

        mutating func resetRandomizedElectionTimeout() {
            randomizedElectionTimeout =
                options.electionTicks + Int(random.next() % UInt64(options.electionTicks))
        }

        /// Queues a message; the Ready decides when it may leave.
        mutating func send(to peer: NodeID, _ body: Body, term messageTerm: Term? = nil) {
            pendingMessagesAfterPersist.append(Message(from: id, to: peer, term: messageTerm ?? term, body: body))
        }

        /// Queues a leader's replication message, which may leave before the leader's own write is durable
        /// (thesis §10.2.1): the leader counts itself toward a commit only once `advance` reports it durable.
        mutating func sendNow(to peer: NodeID, _ body: Body) {
            pendingMessages.append(Message(from: id, to: peer, term: term, body: body))
        }
    }
}
