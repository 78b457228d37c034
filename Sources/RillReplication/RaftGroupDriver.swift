import Logging
import RillModel
import RillRaft
import RillStorage
import Synchronization

/// The serial owner of one Raft group on this node (ARCHITECTURE "Sans-I/O cores"): it holds the `Raft.Core`,
/// feeds it events (`tick`, `step`, `propose`, `campaign`) and performs each `Ready` in order — send
/// `messages`, write the snapshot and entries to the group's `SegmentedLog`, record the hard state in the
/// node's `RaftStateLog`, wait for one flush round to cover what was written, send `messagesAfterPersist` (from
/// the storage thread that finished the round), apply `committedEntries`, `advance`.
///
/// Actors are reentrant at every `await`, so events may arrive while a Ready waits for its fsync. They only
/// change the core (which allows events between `ready()` and `advance(_:)`); Readys are taken by one loop in
/// one owned task, so two are never in flight at once. Storage writes run synchronously on the actor, not on a
/// thread pool, because the core reads the same storage inside `step` and the contract forbids a write racing
/// a call into the node; they reach the page cache only, and the fsync is the flusher's.
///
/// Call `start()` once, and `stop()` before dropping the driver: it owns the tick and processing tasks.
public actor RaftGroupDriver {
    /// Why a proposal did not resolve as committed.
    public enum ProposalError: Error, Sendable, Equatable {
        /// This member is not the leader, or is handing leadership to `hint` (a transfer under way refuses
        /// proposals); retry at `hint` if known. Nothing was appended.
        case notLeader(hint: NodeID?)
        /// The leader refused the proposal (it is no longer a member). Nothing was appended.
        case dropped
        /// Leadership was lost, or the driver stopped, before the entry at `index` committed. The outcome is
        /// **indeterminate**: a later leader may still commit it. The caller must not report success or
        /// failure to a client as certain (Kinesis returns an internal failure and the client retries,
        /// possibly duplicating).
        case indeterminate(index: LogIndex)
        /// A different entry was committed at `index`: this proposal is definitely not in the log.
        case superseded(index: LogIndex)
        /// The driver is not running (not started, stopped, or halted by a storage error). Nothing was appended.
        case notRunning
    }

    /// How many entries the recorded commit index may lag before the hard state is recorded anyway.
    static let hintInterval: UInt64 = 1024

    /// The group this driver runs.
    public nonisolated let group: RaftGroupID
    /// This member's id.
    public nonisolated let id: NodeID
    /// The group's stable log.
    public nonisolated let storage: SegmentedLogStorage

    var node: Raft.Core
    /// Carries `rill.group` (and what the owner added: node, zone, stream, shard) on every line.
    public nonisolated let logger: Logger
    /// Counts each snapshot this member installed from a leader.
    let onSnapshotInstalled: @Sendable () -> Void
    /// Told when this member becomes leader or stops leading: (is leader now, term). The node's event log.
    let onLeadershipChange: @Sendable (Bool, Term) -> Void
    /// Told the leader this member sees (nil: none) and its term on every change of role or leader.
    let onRoleChange: @Sendable (NodeID?, Term) -> Void
    /// A group of one voter leads from its start; its role lines say nothing an operator needs.
    let soleVoter: Bool
    /// Role and leader as the last role line reported them.
    var reportedSoftState: Raft.SoftState?
    let stateLog: RaftStateLog
    let flusher: any GroupCommit
    let send: @Sendable ([Raft.Message]) -> Void
    let apply: @Sendable ([LogEntry]) async -> Void
    /// Hands an installed snapshot's state to the application.
    let restore: @Sendable (Raft.Snapshot) -> Void
    private let tickInterval: Duration?
    let taskExecutor: (any TaskExecutor)?
    /// Ticks, nudges and deadlines run on it (`GroupClock`).
    let clock: any GroupClock
    /// Sees every Ready as it is performed; nil outside the simulation.
    let probe: ReadyProbe?
    /// Whether gossip currently sees the node `NodeID` alive; an idle follower rests only while its leader is.
    let isAlive: @Sendable (NodeID) -> Bool
    /// Whether a resting leader wakes itself once a second for a heartbeat round (`leaderNudge`); false where
    /// its node checks its resting groups with their members' nodes instead (`RestCheck`) and wakes it when one
    /// disagrees.
    let nudgesWhileResting: Bool
    /// Resting state (`RaftGroupDriver+Rest.swift`).
    var resting = false
    var restingTicker: CheckedContinuation<Void, Never>?
    var awakeTicks = 0
    var rests: UInt64 = 0
    /// The status of a resting group, taken as it began to rest; nil while it is awake. A resting group's status
    /// does not change (anything that changes it wakes the group first), so the once-a-second metrics sample
    /// reads it here instead of hopping to the group's executor: most of a thousand idle shards rest.
    let restingSnapshot = Mutex<Status?>(nil)
    /// The leader (and term) this member last heard from since gossip last woke it: a follower rests only then.
    var heardFrom: (leader: NodeID, term: Term)?
    /// Members that are back (`wakeUp(_:)`) and have not answered this leader since, with the ticks left to wait.
    var awaitingAnswer: [NodeID: Int] = [:]

    /// Proposals awaiting commit, by index, with the term they were proposed in.
    var waiters: [LogIndex: (term: Term, continuation: CheckedContinuation<LogIndex, any Error>)] = [:]
    var lastRecorded: GroupHardState?
    var running = false
    /// Set by `stop()`: the wakeup stream is finished, so this driver never runs again (open a new one).
    private var stopped = false
    /// The storage error that halted the group, if any.
    public internal(set) var failure: StorageError?

    private var processTask: Task<Void, Never>?
    private var tickTask: Task<Void, Never>?
    /// Wakes a resting leader on the nudge grid (`RaftGroupDriver+Rest.swift`).
    var nudgeTask: Task<Void, Never>?
    let wakeups: AsyncStream<Void>
    let wake: AsyncStream<Void>.Continuation
    /// Messages from peers, in arrival order; the transport adds to it from an event loop without waiting.
    private let inbox: AsyncStream<Inbound>
    let inboxInput: AsyncStream<Inbound>.Continuation
    private var inboxTask: Task<Void, Never>?

    /// Builds the driver from what is on disk: the hard state `stateLog` holds for `group` and the entries in
    /// `storage`. `configuration` is the bootstrap membership, used while neither a snapshot nor a config entry
    /// says otherwise.
    ///
    /// - Parameters:
    ///   - tickInterval: how often the owned timer ticks the core; nil to tick only through `tick()` (tests).
    ///   - seed: seeds the core's election-timeout generator.
    ///   - isAlive: whether a node is alive as far as gossip knows; the default (nobody) means followers never
    ///     rest, only idle leaders do.
    ///   - taskExecutor: where the inbox, processing and tick tasks run (see `EventLoopTaskExecutor`); nil: the
    ///     global pool.
    ///   - send: hands messages to the transport; called on the actor or on a storage thread, so it must not block.
    ///   - apply: applies committed entries in order; the driver waits for it before advancing.
    ///   - logger: the owner's logger; the driver adds `rill.group`.
    ///   - onSnapshotInstalled: called once for each snapshot installed from a leader (a metrics counter).
    ///   - onLeadershipChange: called when this member becomes leader (true) or stops leading (false), with the
    ///     term; not for a group of one voter, which leads from its start.
    ///   - onRoleChange: called with the leader this member sees (nil: none) and the term, on every change of
    ///     role or leader.
    ///   - restore: hands the application a snapshot installed from a leader, before the entries after it apply.
    ///   - flusher: the flush rounds that make writes durable (`Flusher`; the simulation's in tests).
    ///   - clock: what the tick timer and the nudge sleep on.
    ///   - nudgesWhileResting: a resting leader wakes once a second for a heartbeat round; false when the node runs
    ///     the rest check (`RestCheck`) for its groups.
    ///   - probe: sees every Ready as it is performed (the simulation's checker); nil in nodes.
    public init(
        group: RaftGroupID,
        id: NodeID,
        configuration: Raft.Configuration,
        storage: SegmentedLogStorage,
        stateLog: RaftStateLog,
        flusher: any GroupCommit,
        options: Raft.Options = Raft.Options(),
        tickInterval: Duration? = .milliseconds(100),
        seed: UInt64,
        abstain: Bool = false,
        isAlive: @escaping @Sendable (NodeID) -> Bool = { _ in false },
        taskExecutor: (any TaskExecutor)? = nil,
        clock: any GroupClock = ContinuousGroupClock(),
        nudgesWhileResting: Bool = true,
        probe: ReadyProbe? = nil,
        logger: Logger,
        onSnapshotInstalled: @escaping @Sendable () -> Void = {},
        onLeadershipChange: @escaping @Sendable (Bool, Term) -> Void = { _, _ in },
        onRoleChange: @escaping @Sendable (NodeID?, Term) -> Void = { _, _ in },
        send: @escaping @Sendable ([Raft.Message]) -> Void,
        apply: @escaping @Sendable ([LogEntry]) async -> Void,
        restore: @escaping @Sendable (Raft.Snapshot) -> Void = { _ in }
    ) {
        self.group = group
        self.id = id
        var logger = logger
        logger[metadataKey: "rill.group"] = "\(group)"
        self.logger = logger
        self.onSnapshotInstalled = onSnapshotInstalled
        self.onLeadershipChange = onLeadershipChange
        self.onRoleChange = onRoleChange
        self.soleVoter = configuration.voters == [id] && configuration.learners.isEmpty
        self.storage = storage
        self.stateLog = stateLog
        self.flusher = flusher
        self.send = send
        self.apply = apply
        self.restore = restore
        self.tickInterval = tickInterval
        self.isAlive = isAlive
        self.taskExecutor = taskExecutor
        self.clock = clock
        self.nudgesWhileResting = nudgesWhileResting
        self.probe = probe
        let recorded = stateLog.states[group]
        self.lastRecorded = recorded
        let hard = recorded.map { Raft.HardState(term: $0.term, vote: $0.vote, commit: $0.commit) } ?? Raft.HardState()
        var random = SplitMix64(seed: seed)
        self.node = Raft.Core(
            id: id,
            configuration: configuration,
            hardState: hard,
            storage: storage,
            options: options,
            random: &random
        )
        if abstain { node.abstainUntilCaughtUp() }
        // Newest wins: one pending wakeup is enough, the loop drains everything the core has.
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (inbox, inboxInput) = AsyncStream.makeStream(of: Inbound.self)
    }

    // MARK: - Lifecycle

    /// Starts the processing loop and, when configured, the tick timer (once: a stopped driver stays stopped). Committed entries the state machine
    /// has not seen (everything after the snapshot, on a restart) are applied again first.
    public func start() {
        guard processTask == nil, !stopped, failure == nil else { return }
        running = true
        processTask = Task(executorPreference: taskExecutor) { await self.processLoop() }
        let inbox = inbox
        inboxTask = Task(executorPreference: taskExecutor) {
            for await item in inbox {
                switch item {
                case .messages(let messages): await self.step(messages)
                case .wakeUp(let news): await self.wakeUp(news)
                }
            }
        }
        if let tickInterval {
            // On the group's executor like its other tasks: a tick wakes the actor where it already runs,
            // rather than a pool thread that then hands the actor back (idle groups tick in every nudge round).
            tickTask = Task(executorPreference: taskExecutor) { await self.tickLoop(every: tickInterval) }
        }
        wake.yield()
    }

    /// Ticks every `tickInterval` while awake; parks while the group rests. Bounded by cancellation: `stop()`
    /// cancels it, and a cancelled sleep throws.
    private func tickLoop(every tickInterval: Duration) async {
        while !Task.isCancelled {
            if resting {
                await withCheckedContinuation { restingTicker = $0 }
                continue
            }
            do { try await clock.sleep(until: clock.elapsed + tickInterval) } catch { return }
            tick()
        }
    }

    /// Stops ticking and processing, after the Ready in flight (if any) has been persisted and applied, and
    /// fails every waiting proposal as indeterminate. The log and state stay on disk for a restart.
    public func stop() async {
        running = false
        stopped = true
        tickTask?.cancel()
        nudgeTask?.cancel()
        resume()
        processTask?.cancel()
        wake.finish()
        inboxInput.finish()
        await inboxTask?.value
        inboxTask = nil
        await tickTask?.value
        await processTask?.value
        await nudgeTask?.value
        tickTask = nil
        processTask = nil
        nudgeTask = nil
        failWaiters { .indeterminate(index: $0) }
        // Leave the exact commit index behind on a clean stop; between Readys it is only a hint (see `handle`).
        if failure == nil {
            let hard = node.hardState
            let durable = min(storage.log.durableIndex, storage.log.lastIndex)
            let record = GroupHardState(term: hard.term, vote: hard.vote, commit: hard.commit, durableIndex: durable)
            if record != lastRecorded {
                do {
                    try stateLog.record([(group, record)])
                    try stateLog.sync()
                    lastRecorded = record
                } catch {
                    failure = error
                }
            }
        }
    }
}
