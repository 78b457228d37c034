import Foundation
import RillKinesis
import RillModel
import RillRaft

extension ClusterSimulation {
    /// A seeded cluster of three nodes: each node runs a real Raft core per group it holds (the metadata
    /// group of the founders, and every shard copy its reconciler opened), with the Raft simulation's shell
    /// around each: take a Ready, send what may go early, persist and sync, send the rest, apply, advance.
    public struct World: Sendable {
        public let seed: UInt64
        public let settings: Settings
        public internal(set) var tick = 0
        public internal(set) var stats = Stats()
        /// Print every event, for replaying a failing seed.
        public var trace = false

        var random: Simulation.Random
        var nodes: [Node]
        var network: Simulation.Network<Envelope>
        /// Raft's safety properties per group, fed by every copy's Readys.
        var checkers: [RaftGroupID: Simulation.Checker] = [:]
        /// Proposals awaiting their outcome on the node that took them.
        var pending: [Pending] = []
        /// Entries acknowledged to a client (puts), per shard group: never to be lost.
        var acknowledged: [RaftGroupID: [LogEntry]] = [:]
        /// The resharding call under way, if any, and how many were started (their numbers).
        var reshard: ReshardCall?
        var reshardCalls = 0
        /// Groups a reshard is sealing: their leaders refuse puts from the seal on.
        var sealing: Set<RaftGroupID> = []
        var nextPayload: UInt64 = 0
        /// Streams created so far; the next CreateStream names stream `streamsCreated`.
        var streamsCreated = 0
        /// Whether faults and clients are on; off once the world heals.
        var faulty = true

        /// A failed check, before `run` adds seed and tick.
        typealias CheckFailure = Simulation.CheckFailure

        /// A Raft message of one group.
        struct Envelope: Sendable {
            var group: RaftGroupID
            var message: Raft.Message
        }

        /// A proposal a node took, and what its outcome means to the caller.
        struct Pending: Sendable {
            var slot: Int
            var group: RaftGroupID
            var index: LogIndex
            var term: Term
            var purpose: Purpose
            /// The caller gives up at this tick: an entry proposed by a leader that lost its term may never
            /// be reached by the log (nothing new is appended after it), and a client does not wait forever.
            var deadline: Int
        }

        /// Ticks a caller waits for its answer.
        static let callTimeout = 100

        enum Purpose: Sendable {
            case put
            case createStream
            case controller
            /// The seal of a parent for the reshard call numbered so.
            case seal(call: Int)
            case reshard(call: Int)
        }

        public init(seed: UInt64, settings: Settings) {
            self.seed = seed
            self.settings = settings
            self.random = Simulation.Random(seed: seed)
            self.nodes = settings.founders.map { Node(member: $0) }
            self.network = Simulation.Network(nodeCount: settings.founders.count)
            stats.seeds = 1
            for slot in nodes.indices { start(slot) }
        }

        /// Runs the faulty phase, heals everything, waits for the cluster to settle and checks the end state.
        public mutating func run() throws(Violation) -> Stats {
            do throws(CheckFailure) {
                while tick < settings.faults.ticks { try step() }
                faulty = false
                network.heal()
                for slot in nodes.indices where !nodes[slot].up { start(slot) }
                let deadline = tick + settings.faults.healTicks
                while tick < deadline {
                    try step()
                    if unsettled() == nil {
                        try checkSettled()
                        stats.ticks = tick
                        return stats
                    }
                }
                throw CheckFailure(
                    "liveness",
                    "not settled \(settings.faults.healTicks) ticks after healing (\(unsettled() ?? "")): \(summary())"
                )
            } catch {
                throw Violation(seed: seed, tick: tick, property: error.property, detail: error.detail)
            }
        }

        // MARK: - One tick

        mutating func step() throws(CheckFailure) {
            if faulty {
                injectFaults()
                try callAsClients()
            }
            try continueReshard()
            if tick % settings.controllerInterval == 0 { try controlOnce() }
            for slot in nodes.indices where nodes[slot].up {
                for group in nodes[slot].groups.keys.sorted() {
                    nodes[slot].groups[group]?.tick()
                    try handleReady(slot, group)
                }
            }
            for item in network.takeDue(tick: tick, random: &random) {
                guard nodes[item.to].up else { continue }
                // A partition also loses what was already on the wire.
                if network.isBlocked(from: item.from, to: item.to) {
                    stats.raft.dropped += 1
                    continue
                }
                // A copy not open here (not placed here, or not reconciled yet) hears nothing.
                guard nodes[item.to].groups[item.message.group] != nil else { continue }
                nodes[item.to].groups[item.message.group]?.step(item.message.message)
                try handleReady(item.to, item.message.group)
            }
            for proposal in pending where proposal.deadline <= tick { abandon(proposal) }
            pending.removeAll { $0.deadline <= tick }
            try audit()
            tick += 1
        }

        /// The shell of one group on one node, as the runtime's driver: one Ready at a time, in order.
        mutating func handleReady(_ slot: Int, _ group: RaftGroupID) throws(CheckFailure) {
            var catalogChanged = false
            while nodes[slot].up, var core = nodes[slot].groups[group], let ready = core.ready() {
                nodes[slot].groups[group] = core
                if let soft = ready.softState, soft.role == .leader {
                    stats.raft.elections += 1
                    log("node \(core.id) leads \(group) in term \(core.term)")
                    try checkers[group, default: Simulation.Checker()].leaderElected(core)
                }
                for message in ready.messages { send(message, of: group) }
                // The write reaches the disk but a crash may strike before the sync.
                if faulty && random.chance(settings.faults.tornWriteRate) {
                    nodes[slot].disk(group).persistTorn(ready, keeping: random.int(in: 0...ready.entries.count))
                    stats.raft.tornWrites += 1
                    crash(slot, reason: "crashed before sync")
                    return
                }
                var disk = nodes[slot].disk(group)
                disk.persist(ready)
                nodes[slot].disks[group] = disk
                try checkers[group, default: Simulation.Checker()].appended(ready.entries, on: core)
                let reported = nodes[slot].reportedCommit[group] ?? .zero
                if let hardState = ready.hardState, hardState.commit > reported {
                    try checkers[group, default: Simulation.Checker()].committed(
                        through: hardState.commit,
                        after: reported,
                        on: core
                    )
                    nodes[slot].reportedCommit[group] = hardState.commit
                }
                for message in ready.messagesAfterPersist { send(message, of: group) }
                for entry in ready.committedEntries {
                    try checkers[group, default: Simulation.Checker()].applied(entry, on: core.id)
                    catalogChanged = try apply(entry, of: group, on: slot) || catalogChanged
                }
                core.advance(ready)
                nodes[slot].groups[group] = core
            }
            // The reconciler runs after every applied catalog change, as the node's does.
            if catalogChanged { reconcile(slot) }
        }

        mutating func send(_ message: Raft.Message, of group: RaftGroupID) {
            guard let from = slot(of: message.from), let to = slot(of: message.to) else { return }
            network.send(
                Envelope(group: group, message: message),
                from: from,
                to: to,
                tick: tick,
                faulty: faulty,
                settings: settings.faults,
                random: &random,
                stats: &stats.raft
            )
        }

        func slot(of id: NodeID) -> Int? { nodes.firstIndex { $0.id == id.rawValue } }

        func log(_ text: @autoclosure () -> String) {
            if trace { print("[cluster seed \(seed) tick \(tick)] \(text())") }
        }
    }
}
