import Logging
import RillModel
import RillRaft
import RillStorage

/// How one Raft group runs on this node: its voters, its timer, and where its messages go.
public struct GroupPlan: Sendable {
    public var me: NodeID
    public var voters: [NodeID]
    /// nil for a sole voter: it is elected at start, has nobody to heartbeat and cannot lose a quorum, so
    /// thousands of idle single-node shards cost nothing.
    public var tickInterval: Duration?
    public var options: Raft.Options
    public var send: @Sendable ([Raft.Message]) -> Void
    /// Campaign at once rather than after an election timeout: the preferred leader of a new group.
    public var campaignAtStart: Bool
    /// This member lost its disk (wiped, or damage cut its log): no votes until it has caught up.
    public var abstain = false
    /// Whether gossip sees a node alive; an idle follower stops ticking only while its leader is.
    public var isAlive: @Sendable (NodeID) -> Bool = { _ in false }
    /// Where the group's own tasks run (`EventLoopTaskExecutor`); nil: the global pool.
    public var taskExecutor: (any TaskExecutor)?
    /// What the group's tick timer and resting leader's nudge sleep on; a node's groups sleep on their event
    /// loop's timers (`EventLoopGroupClock`), beside `taskExecutor`.
    public var clock: any GroupClock = ContinuousGroupClock()
    /// Told when this member becomes leader (true) or stops leading (false), with the term: the event log.
    public var onLeadershipChange: @Sendable (Bool, Term) -> Void = { _, _ in }
    /// Told the leader (nil: none known) and term this member sees, whenever its role or leader changes:
    /// where a forward to a leader that lost its term is abandoned (`LeaderBoard`).
    public var onRoleChange: @Sendable (NodeID?, Term) -> Void = { _, _ in }
    /// A resting leader wakes itself once a second for a heartbeat round; false where the node runs the rest
    /// check for its groups (`RestCheck`).
    public var nudgesWhileResting = true

    public init(
        me: NodeID,
        voters: [NodeID],
        tickInterval: Duration?,
        options: Raft.Options,
        send: @escaping @Sendable ([Raft.Message]) -> Void,
        campaignAtStart: Bool,
        abstain: Bool = false,
        isAlive: @escaping @Sendable (NodeID) -> Bool = { _ in false },
        taskExecutor: (any TaskExecutor)? = nil
    ) {
        self.me = me
        self.voters = voters
        self.tickInterval = tickInterval
        self.options = options
        self.send = send
        self.campaignAtStart = campaignAtStart
        self.abstain = abstain
        self.isAlive = isAlive
        self.taskExecutor = taskExecutor
    }

    public var isSoleVoter: Bool { voters == [me] }

    /// - Parameter taskExecutor: where the group's tasks run; a node alone gives its groups an event loop, the
    ///   one its small writes are served on, so a write's Ready is written and answered without a hop to the
    ///   global pool.
    public static func soleVoter(_ me: NodeID, taskExecutor: (any TaskExecutor)? = nil) -> GroupPlan {
        GroupPlan(
            me: me,
            voters: [me],
            tickInterval: nil,
            options: Raft.Options(),
            send: { _ in },
            campaignAtStart: true,
            taskExecutor: taskExecutor
        )
    }
}

extension RaftGroupDriver {
    /// A driver for `group` run as `plan` says, seeded at random: how the node opens the metadata group and
    /// every shard replica, so the two cannot drift in how a plan becomes a driver.
    public init(
        group: RaftGroupID,
        plan: GroupPlan,
        storage: SegmentedLogStorage,
        stateLog: RaftStateLog,
        flusher: any GroupCommit,
        logger: Logger,
        onSnapshotInstalled: @escaping @Sendable () -> Void,
        apply: @escaping @Sendable ([LogEntry]) async -> Void,
        restore: @escaping @Sendable (Raft.Snapshot) -> Void = { _ in }
    ) {
        self.init(
            group: group,
            id: plan.me,
            configuration: Raft.Configuration(voters: Set(plan.voters)),
            storage: storage,
            stateLog: stateLog,
            flusher: flusher,
            options: plan.options,
            tickInterval: plan.tickInterval,
            seed: UInt64.random(in: 1...UInt64.max),
            abstain: plan.abstain,
            isAlive: plan.isAlive,
            taskExecutor: plan.taskExecutor,
            clock: plan.clock,
            nudgesWhileResting: plan.nudgesWhileResting,
            logger: logger,
            onSnapshotInstalled: onSnapshotInstalled,
            onLeadershipChange: plan.onLeadershipChange,
            onRoleChange: plan.onRoleChange,
            send: plan.send,
            apply: apply,
            restore: restore
        )
    }

    /// Starts the group as `plan` says. A sole voter returns once it leads and has applied everything
    /// committed before; a member of a larger group returns at once (the cluster elects a leader).
    public func start(_ plan: GroupPlan) async throws {
        // The log's configuration, not the plan's: a group that started as this node alone (a healed shard)
        // may have grown since, and then needs an election like any other.
        let configuration = status.configuration
        if configuration.voters == [plan.me] && configuration.learners.isEmpty {
            try await startAsSoleVoter()
            return
        }
        start()
        if plan.campaignAtStart { campaign() }
    }
}
