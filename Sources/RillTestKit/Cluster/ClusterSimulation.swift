import RillKinesis
import RillRaft

/// The deterministic simulation of a whole cluster above Raft: formation, the catalog, placement, the
/// controller, the reconciler that opens shard groups, shard moves and resharding run as the real pure code
/// (`Catalog.apply`, `ControllerPlan`, `ReplicaPlan`, `Raft.Reconfiguration`, real `Raft.Core` cores for the
/// metadata group and every shard group on every node), with the Raft simulation's seeded network, clock and
/// disks, under a seeded schedule of client calls issued from the first tick.
public enum ClusterSimulation {
    /// The shape of one run: the founders, the Raft and fault settings, and the client schedule.
    public struct Settings: Sendable {
        /// Raft options, run length and fault rates as in the Raft simulation (`ticks`, `healTicks`, `options`,
        /// the network rates, `crashRate`, `restartRate`, `tornWriteRate`, `partitionRate`, `linkCutRate`,
        /// `healRate`); its proposal, membership, compaction and wipe rates are not used here.
        public var faults: Simulation.Settings
        /// The nodes that form the cluster, one per zone: the metadata group's voters and, once the controller
        /// records them, the catalog's members.
        public var founders: [ClusterMember]
        /// Per tick while fewer than `maxStreams` exist: a CreateStream of 1–4 shards, from tick 0 on.
        public var createRate: Double
        public var maxStreams: Int
        /// Per tick: a put of one record into a random open shard, through its leader.
        public var putRate: Double
        /// Per tick while none is under way: a SplitShard or MergeShards.
        public var reshardRate: Double
        /// Ticks between the controller's rounds (the node runs one every 250 ms).
        public var controllerInterval: Int

        public init(
            faults: Simulation.Settings = Simulation.Settings(ticks: 400, healTicks: 800),
            founders: [ClusterMember] = [
                ClusterMember(id: 1, zone: "az-a"), ClusterMember(id: 2, zone: "az-b"),
                ClusterMember(id: 3, zone: "az-c"),
            ],
            createRate: Double = 0.1,
            maxStreams: Int = 3,
            putRate: Double = 0.6,
            reshardRate: Double = 0.02,
            controllerInterval: Int = 5
        ) {
            self.faults = faults
            self.founders = founders
            self.createRate = createRate
            self.maxStreams = maxStreams
            self.putRate = putRate
            self.reshardRate = reshardRate
            self.controllerInterval = controllerInterval
        }
    }

    /// What happened in one run or many, for the summary line (and the determinism test).
    public struct Stats: Sendable, Equatable, CustomStringConvertible {
        public var seeds = 0
        public var ticks = 0
        /// CreateStream calls the catalog refused because it had no members yet (the formation window).
        public var createsRefused = 0
        public var streams = 0
        public var shards = 0
        public var puts = 0
        public var acknowledged = 0
        public var reshards = 0
        public var reshardsAbandoned = 0
        public var controllerCommands = 0
        public var moveSteps = 0
        public var restarts = 0
        /// Network, crash and election counts, as the Raft simulation keeps them.
        public var raft = Simulation.Stats()

        public init() {}

        public mutating func add(_ other: Stats) {
            seeds += other.seeds
            ticks += other.ticks
            createsRefused += other.createsRefused
            streams += other.streams
            shards += other.shards
            puts += other.puts
            acknowledged += other.acknowledged
            reshards += other.reshards
            reshardsAbandoned += other.reshardsAbandoned
            controllerCommands += other.controllerCommands
            moveSteps += other.moveSteps
            restarts += other.restarts
            raft.add(other.raft)
        }

        public static func == (a: Stats, b: Stats) -> Bool { a.description == b.description }

        public var description: String {
            "seeds=\(seeds) ticks=\(ticks) createsRefused=\(createsRefused) streams=\(streams) shards=\(shards) "
                + "puts=\(puts) acknowledged=\(acknowledged) reshards=\(reshards) reshardsAbandoned=\(reshardsAbandoned) "
                + "controllerCommands=\(controllerCommands) moveSteps=\(moveSteps) restarts=\(restarts) "
                + "elections=\(raft.elections) messages=\(raft.messages) faults=\(raft.faults) crashes=\(raft.crashes)"
        }
    }

    /// A broken invariant, with what is needed to replay it.
    public struct Violation: Error, Sendable, CustomStringConvertible {
        public var seed: UInt64
        public var tick: Int
        public var property: String
        public var detail: String

        public var description: String {
            "cluster seed \(seed) violated \(property) at tick \(tick): \(detail)\n"
                + "  replay: RILL_CLUSTER_SIM_SEED=\(seed) RILL_CLUSTER_SIM_TRACE=1 swift test --filter ClusterSimulationTests"
        }
    }
}
