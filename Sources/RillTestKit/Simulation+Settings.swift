import RillRaft

extension Simulation {
    /// The shape of one simulated run: cluster size, length and fault rates (per tick or per message).
    public struct Settings: Sendable {
        public var nodeCount: Int
        /// Ticks with faults, then the world heals and must converge within `healTicks`.
        public var ticks: Int
        public var healTicks: Int
        public var options: Raft.Options
        /// Per message.
        public var dropRate: Double
        public var duplicateRate: Double
        /// A message arrives 0...maxDelay ticks after it is sent, so messages reorder.
        public var maxDelay: Int
        /// Per message: a long stall (a retransmission, a paused process) of up to `maxLongDelay` ticks, so
        /// answers from older terms arrive late.
        public var longDelayRate: Double
        public var maxLongDelay: Int
        /// Per tick.
        public var proposeRate: Double
        public var crashRate: Double
        public var restartRate: Double
        /// Chance that a newly elected leader crashes within a few ticks: the schedule of Raft §5.4.2 Figure 8,
        /// where a leader dies between replicating old entries and its own.
        public var newLeaderCrashRate: Double
        /// Chance that a newly elected leader is cut off from everyone within a few ticks, having reached only
        /// some followers.
        public var newLeaderIsolateRate: Double
        /// Per tick and node with a flush round under way: a crash before the round ends, which loses (or tears)
        /// what it was about to sync.
        public var tornWriteRate: Double
        public var partitionRate: Double
        public var linkCutRate: Double
        public var healRate: Double
        public var transferRate: Double
        /// Per tick: the leader proposes a single-server membership change (thesis §4.1).
        public var membershipRate: Double
        /// Per tick: a random node compacts its log through its applied index (Raft §7).
        public var compactionRate: Double
        /// Voters at start; the other nodes start as learners.
        public var initialVoters: Int?
        /// Chance that a crash also wipes the node's disk: it restarts empty and abstains from voting until
        /// caught up (`Raft.Core.abstainUntilCaughtUp`). Only while no other node is abstaining or wiped: with
        /// two disks lost in three, Raft promises nothing.
        public var wipeRate: Double
        /// A flush round takes 0...maxFlushDelay ticks: writes wait that long to become durable.
        public var maxFlushDelay: Int
        /// Per flush round: a slow disk, 0...maxSlowFlushDelay ticks, so a node's own sync sometimes ends after
        /// its peers have answered (what exposes an acknowledgement given before the round).
        public var slowFlushRate: Double
        public var maxSlowFlushDelay: Int
        /// Per flush round: one fsync of the round fails, which crashes its node (an fsync error is fatal).
        public var syncFailureRate: Double
        /// Segment size of each node's log: small, so logs roll, index and trim whole segments.
        public var segmentBytes: Int
        /// The groups rest as a node's do: followers rest while the world's gossip sees their leader alive, and
        /// resting leaders do not nudge themselves; instead the world runs the rest check (`RestCheck`) every
        /// `restCheckTicks`. Off: followers never rest and resting leaders nudge themselves, as drivers without a
        /// node do.
        public var restChecks = false
        /// Ticks between rest checks: a second, as on nodes.
        public var restCheckTicks = 10
        /// Per change gossip sees (`restChecks` worlds): the news never reaches the observer's group.
        public var gossipNewsLossRate = 0.3

        public init(
            nodeCount: Int = 3,
            ticks: Int = 200,
            healTicks: Int = 600,
            options: Raft.Options = Raft.Options(electionTicks: 10, heartbeatTicks: 2),
            dropRate: Double = 0.05,
            duplicateRate: Double = 0.02,
            maxDelay: Int = 2,
            longDelayRate: Double = 0.02,
            maxLongDelay: Int = 40,
            proposeRate: Double = 0.5,
            crashRate: Double = 0.01,
            restartRate: Double = 0.1,
            newLeaderCrashRate: Double = 0.1,
            newLeaderIsolateRate: Double = 0.2,
            tornWriteRate: Double = 0.005,
            partitionRate: Double = 0.01,
            linkCutRate: Double = 0.01,
            healRate: Double = 0.05,
            transferRate: Double = 0.005,
            membershipRate: Double = 0,
            compactionRate: Double = 0,
            initialVoters: Int? = nil,
            wipeRate: Double = 0,
            maxFlushDelay: Int = 1,
            slowFlushRate: Double = 0.1,
            maxSlowFlushDelay: Int = 12,
            syncFailureRate: Double = 0.002,
            segmentBytes: Int = 2048
        ) {
            self.maxFlushDelay = maxFlushDelay
            self.slowFlushRate = slowFlushRate
            self.maxSlowFlushDelay = maxSlowFlushDelay
            self.syncFailureRate = syncFailureRate
            self.segmentBytes = segmentBytes
            self.wipeRate = wipeRate
            self.nodeCount = nodeCount
            self.ticks = ticks
            self.healTicks = healTicks
            self.options = options
            self.dropRate = dropRate
            self.duplicateRate = duplicateRate
            self.maxDelay = maxDelay
            self.longDelayRate = longDelayRate
            self.maxLongDelay = maxLongDelay
            self.proposeRate = proposeRate
            self.crashRate = crashRate
            self.restartRate = restartRate
            self.newLeaderCrashRate = newLeaderCrashRate
            self.newLeaderIsolateRate = newLeaderIsolateRate
            self.tornWriteRate = tornWriteRate
            self.partitionRate = partitionRate
            self.linkCutRate = linkCutRate
            self.healRate = healRate
            self.transferRate = transferRate
            self.membershipRate = membershipRate
            self.compactionRate = compactionRate
            self.initialVoters = initialVoters
        }
    }

    /// What happened in one run or many, for the summary line.
    public struct Stats: Sendable, CustomStringConvertible {
        public var seeds = 0
        public var elections = 0
        public var commits = 0
        public var acknowledged = 0
        public var messages = 0
        public var dropped = 0
        public var duplicated = 0
        public var delayed = 0
        public var crashes = 0
        public var tornWrites = 0
        public var partitions = 0
        public var linkCuts = 0
        public var transfers = 0
        public var membershipChanges = 0
        public var compactions = 0
        public var wipes = 0
        public var snapshotsInstalled = 0
        public var syncFailures = 0
        public var damagedRecoveries = 0
        /// Rest checks of a resting leader (`restChecks` worlds), and those that woke it.
        public var restChecks = 0
        public var restWakes = 0

        public init() {}

        public var faults: Int { dropped + duplicated + delayed + crashes + tornWrites + partitions + linkCuts }

        public mutating func add(_ other: Stats) {
            seeds += other.seeds
            elections += other.elections
            commits += other.commits
            acknowledged += other.acknowledged
            messages += other.messages
            dropped += other.dropped
            duplicated += other.duplicated
            delayed += other.delayed
            crashes += other.crashes
            tornWrites += other.tornWrites
            partitions += other.partitions
            linkCuts += other.linkCuts
            transfers += other.transfers
            membershipChanges += other.membershipChanges
            compactions += other.compactions
            wipes += other.wipes
            snapshotsInstalled += other.snapshotsInstalled
            syncFailures += other.syncFailures
            damagedRecoveries += other.damagedRecoveries
            restChecks += other.restChecks
            restWakes += other.restWakes
        }

        public var description: String {
            "seeds=\(seeds) elections=\(elections) commits=\(commits) acknowledged=\(acknowledged) "
                + "messages=\(messages) faults=\(faults) (dropped=\(dropped) duplicated=\(duplicated) delayed=\(delayed) "
                + "crashes=\(crashes) tornWrites=\(tornWrites) partitions=\(partitions) linkCuts=\(linkCuts)) "
                + "transfers=\(transfers) membershipChanges=\(membershipChanges) compactions=\(compactions) wipes=\(wipes) snapshotsInstalled=\(snapshotsInstalled) "
                + "syncFailures=\(syncFailures) damagedRecoveries=\(damagedRecoveries) "
                + "restChecks=\(restChecks) restWakes=\(restWakes)"
        }
    }

    /// A broken safety or liveness property, with what is needed to replay it.
    public struct Violation: Error, Sendable, CustomStringConvertible {
        public var seed: UInt64
        public var tick: Int
        public var property: String
        public var detail: String

        public var description: String {
            "seed \(seed) violated \(property) at tick \(tick): \(detail)\n"
                + "  replay: RILL_SIM_SEED=\(seed) RILL_SIM_TRACE=1 swift test --filter RillSimulationTests"
        }
    }
}
