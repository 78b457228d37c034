import RillModel
import RillRaft

extension Simulation {
    /// A seeded world of 3–5 real Raft cores, a lossy network, a manual clock and disks that lose unsynced
    /// writes. Each node's shell mirrors the runtime: take a Ready, send what may go early, persist and sync,
    /// send the rest, apply, advance.
    public struct World: Sendable {
        public let seed: UInt64
        public let settings: Settings
        public private(set) var tick = 0
        public private(set) var stats = Stats()
        public private(set) var checker = Checker()
        /// Print every event, for replaying a failing seed.
        public var trace = false

        private var random: Random
        private var nodes: [Raft.Node?]
        private var disks: [Disk]
        /// The commit index each live node last reported, for the checker.
        private var reportedCommit: [LogIndex]
        /// Nodes whose disk was wiped and that have not caught up since: they start abstaining.
        private var wiped: [Bool]
        private var configuration: Raft.Configuration
        /// The lossy wire between the nodes, messages addressed by slot.
        private var network: Network<Raft.Message>
        /// Proposals awaiting their result: the node that took it, at (index, term).
        private var pending: [Proposal] = []
        private var nextPayload: UInt64 = 0
        /// Crashes planned for new leaders: node slot and tick.
        private var plannedCrashes: [(slot: Int, tick: Int)] = []
        /// Isolations planned for new leaders: node slot and tick.
        private var plannedIsolations: [(slot: Int, tick: Int)] = []
        /// Whether faults are on; off once the world heals.
        private var faulty = true
        /// Where the leader walks the membership with the shells' policy (`Raft.Reconfiguration`), when it does.
        private var reconfigurationTarget: Raft.Reconfiguration?

        struct Proposal: Sendable {
            var node: Int
            var index: LogIndex
            var term: Term
        }

        public init(seed: UInt64, settings: Settings) {
            self.seed = seed
            self.settings = settings
            self.random = Random(seed: seed)
            let ids = (1...settings.nodeCount).map { NodeID(UInt64($0)) }
            let voterCount = min(settings.initialVoters ?? settings.nodeCount, settings.nodeCount)
            self.configuration = Raft.Configuration(
                voters: Set(ids.prefix(voterCount)), learners: Set(ids.dropFirst(voterCount)))
            self.nodes = Array(repeating: nil, count: settings.nodeCount)
            // One storage object per disk (`Array(repeating:)` would share one).
            self.disks = (0..<settings.nodeCount).map { _ in Disk() }
            self.reportedCommit = Array(repeating: .zero, count: settings.nodeCount)
            self.wiped = Array(repeating: false, count: settings.nodeCount)
            self.network = Network(nodeCount: settings.nodeCount)
            stats.seeds = 1
            for slot in 0..<settings.nodeCount { start(slot) }
        }

        /// Runs the faulty phase, heals everything and checks that every acknowledged entry reaches every node.
        public mutating func run() throws(Violation) -> Stats {
            do throws(CheckFailure) {
                while tick < settings.ticks { try step() }
                healAll()
                faulty = false
                // A wiped node copies the whole log back, one small append per round trip in these worlds.
                let longestLog = nodes.compactMap { $0?.log.lastIndex.rawValue }.max() ?? 0
                let allowance = settings.healTicks + (stats.wipes > 0 ? 4 * Int(longestLog) : 0)
                let deadline = tick + allowance
                while tick < deadline {
                    try step()
                    if isConverged() { return stats }
                }
                throw CheckFailure("liveness", "no convergence \(allowance) ticks after healing: \(summary())")
            } catch {
                throw Violation(seed: seed, tick: tick, property: error.property, detail: error.detail)
            }
        }

        // MARK: - One tick

        private mutating func step() throws(CheckFailure) {
            if faulty { injectFaults() }
            if faulty && random.chance(settings.proposeRate) { try proposeSomewhere() }
            for slot in nodes.indices where nodes[slot] != nil {
                nodes[slot]?.tick()
                try handleReady(slot)
            }
            // Deliver what is due, in random order: delays and this shuffle reorder messages.
            for item in network.takeDue(tick: tick, random: &random) {
                let slot = item.to
                guard nodes.indices.contains(slot), nodes[slot] != nil else { continue }
                // A partition also loses what was already on the wire.
                if network.blocked.indices.contains(item.from), network.blocked[item.from][slot] {
                    stats.dropped += 1
                    continue
                }
                log("deliver \(item.message)")
                nodes[slot]?.step(item.message)
                try handleReady(slot)
            }
            tick += 1
        }

        private mutating func handleReady(_ slot: Int) throws(CheckFailure) {
            while var node = nodes[slot], let ready = node.ready() {
                nodes[slot] = node
                if let soft = ready.softState, soft.role == .leader {
                    stats.elections += 1
                    log("node \(node.id) leads term \(node.term)")
                    try checker.leaderElected(node)
                    if faulty && random.chance(settings.newLeaderCrashRate) {
                        plannedCrashes.append((slot, tick + random.int(in: 0...6)))
                    }
                    if faulty && random.chance(settings.newLeaderIsolateRate) {
                        plannedIsolations.append((slot, tick + random.int(in: 0...3)))
                    }
                }
                for message in ready.messages { send(message) }
                // The write reaches the disk but a crash may strike before the sync.
                if faulty && random.chance(settings.tornWriteRate) {
                    disks[slot].persistTorn(ready, keeping: random.int(in: 0...ready.entries.count))
                    stats.tornWrites += 1
                    crash(slot, reason: "crashed before sync")
                    return
                }
                disks[slot].persist(ready)
                if ready.snapshot != nil { stats.snapshotsInstalled += 1 }
                try checker.appended(ready.entries, on: node)
                if let hardState = ready.hardState, hardState.commit > reportedCommit[slot] {
                    try checker.committed(through: hardState.commit, after: reportedCommit[slot], on: node)
                    reportedCommit[slot] = hardState.commit
                }
                for message in ready.messagesAfterPersist { send(message) }
                for entry in ready.committedEntries {
                    try checker.applied(entry, on: node.id)
                    try acknowledgeIfProposedHere(slot, entry)
                }
                node.advance(ready)
                // Memory stays bounded: once the shell wrote a Ready and advanced, nothing is left unstable; the
                // durable log is read back from the disk's storage.
                guard node.log.unstable.isEmpty else {
                    throw CheckFailure(
                        "bounded memory", "node \(node.id) keeps \(node.log.unstable.count) entries after advance")
                }
                nodes[slot] = node
            }
        }

        /// The client hears "committed" when the node it proposed to applies its entry in the proposal's term.
        private mutating func acknowledgeIfProposedHere(_ slot: Int, _ entry: LogEntry) throws(CheckFailure) {
            guard entry.kind == .records else { return }
            if let position = pending.firstIndex(where: { $0.node == slot && $0.index == entry.index }) {
                let proposal = pending.remove(at: position)
                if proposal.term == entry.term {
                    stats.acknowledged += 1
                    try checker.acknowledge(entry)
                }
            }
            stats.commits += 1
        }

        // MARK: - Clients

        private mutating func proposeSomewhere() throws(CheckFailure) {
            // Mostly to a leader; sometimes to anyone, who may refuse.
            let leaders = nodes.indices.filter { nodes[$0]?.role == .leader }
            let slot = leaders.randomElement(using: &random) ?? random.int(in: 0...(nodes.count - 1))
            guard var node = nodes[slot] else { return }
            nextPayload += 1
            let payload = withUnsafeBytes(of: nextPayload.bigEndian) { Array($0) }
            do {
                let index = try node.propose(kind: .records, payload: payload, timestampMillis: Int64(tick))
                pending.append(Proposal(node: slot, index: index, term: node.term))
            } catch {
                // Refused before anything was written: the client retries elsewhere.
            }
            nodes[slot] = node
            try handleReady(slot)
        }

        // MARK: - Network

        private mutating func send(_ message: Raft.Message) {
            network.send(
                message, from: Int(message.from.rawValue) - 1, to: Int(message.to.rawValue) - 1, tick: tick,
                faulty: faulty, settings: settings, random: &random, stats: &stats)
        }

        // MARK: - Faults

        private mutating func injectFaults() {
            let count = nodes.count
            for planned in plannedCrashes where planned.tick <= tick && nodes[planned.slot] != nil {
                stats.crashes += 1
                crash(planned.slot, reason: "crashed as planned")
            }
            plannedCrashes.removeAll { $0.tick <= tick }
            for planned in plannedIsolations where planned.tick <= tick {
                stats.partitions += 1
                network.isolate(planned.slot)
                log("isolate \(planned.slot + 1)")
            }
            plannedIsolations.removeAll { $0.tick <= tick }
            if random.chance(settings.crashRate) {
                let slot = random.int(in: 0...(count - 1))
                if nodes[slot] != nil {
                    stats.crashes += 1
                    crash(slot, reason: "crashed")
                }
            }
            for slot in 0..<count where nodes[slot] == nil && random.chance(settings.restartRate) {
                start(slot)
            }
            if random.chance(settings.partitionRate) {
                // Split into two random sides, both ways.
                stats.partitions += 1
                let side = network.partition(random: &random)
                log("partition \(side)")
            }
            if random.chance(settings.linkCutRate) {
                // An asymmetric fault: one direction of one link.
                let (a, b) = network.cutOneWay(random: &random)
                stats.linkCuts += 1
                log("cut \(a + 1)->\(b + 1)")
            }
            if random.chance(settings.healRate) { healNetwork() }
            if random.chance(settings.membershipRate) { changeMembership() }
            if random.chance(settings.compactionRate) { compactSomewhere() }
            if random.chance(settings.transferRate) {
                if let slot = nodes.indices.first(where: { nodes[$0]?.role == .leader }), var node = nodes[slot] {
                    let target = NodeID(UInt64(random.int(in: 1...count)))
                    if (try? node.transferLeadership(to: target)) != nil { stats.transfers += 1 }
                    nodes[slot] = node
                }
            }
        }

        /// The leader adds, promotes, demotes or removes one node (thesis §4.1): half the time at random, half
        /// the time as the nodes' controller does, one policy step toward a target of three voters.
        private mutating func changeMembership() {
            guard let slot = nodes.indices.first(where: { nodes[$0]?.role == .leader }), var node = nodes[slot] else {
                return
            }
            if nodes.count > 3, random.chance(0.5) {
                stepTowardTarget(&node)
                nodes[slot] = node
                return
            }
            let target = NodeID(UInt64(random.int(in: 1...nodes.count)))
            let current = node.configuration
            let change: Raft.ConfigurationChange
            if current.voters.contains(target) {
                // Keep at least three voters so the world can still lose one.
                guard current.voters.count > 3 else { return }
                change = random.chance(0.5) ? .remove(target) : .addLearner(target)
            } else if current.learners.contains(target) {
                change = random.chance(0.7) ? .addVoter(target) : .remove(target)
            } else {
                change = .addLearner(target)
            }
            if (try? node.proposeConfigurationChange(change)) != nil {
                stats.membershipChanges += 1
                log("node \(node.id) proposes \(change)")
            }
            nodes[slot] = node
        }

        private mutating func stepTowardTarget(_ node: inout Raft.Node) {
            if reconfigurationTarget.map({ $0.isReached(by: node.configuration) }) ?? true {
                var voters: Set<NodeID> = []
                while voters.count < 3 { voters.insert(NodeID(UInt64(random.int(in: 1...nodes.count)))) }
                reconfigurationTarget = Raft.Reconfiguration(voters: voters)
                log("membership target \(voters.sorted())")
            }
            guard let target = reconfigurationTarget, !node.hasPendingConfigurationChange else { return }
            guard let step = target.nextStep(leading: node, promotionLag: 4) else { return }
            if case .transferLeadership(let heir) = step {
                if (try? node.transferLeadership(to: heir)) != nil { stats.transfers += 1 }
            } else if let change = step.change, (try? node.proposeConfigurationChange(change)) != nil {
                stats.membershipChanges += 1
            }
            log("node \(node.id) steps toward the target: \(step)")
        }

        /// A node compacts its log through its applied index, as a committed `trim` would make it do.
        private mutating func compactSomewhere() {
            let slot = random.int(in: 0...(nodes.count - 1))
            guard var node = nodes[slot], node.appliedIndex > node.log.snapshotIndex else { return }
            let index = LogIndex(
                node.appliedIndex.rawValue - min(node.appliedIndex.rawValue, UInt64(random.int(in: 0...3))))
            guard index > node.log.snapshotIndex else { return }
            // The opaque state: the applied index, enough for the shell to resume applying after it.
            let state = withUnsafeBytes(of: index.rawValue.bigEndian) { Array($0) }
            guard (try? node.compact(through: index, state: state)) != nil, let snapshot = node.snapshot else { return }
            disks[slot].compact(to: snapshot)
            stats.compactions += 1
            nodes[slot] = node
            log("node \(node.id) compacts through \(index)")
        }

        private mutating func healNetwork() {
            network.heal()
            log("heal")
        }

        private mutating func healAll() {
            healNetwork()
            for slot in nodes.indices where nodes[slot] == nil { start(slot) }
        }

        private mutating func crash(_ slot: Int, reason: String) {
            // A wiped node abstains, across restarts too (node.json says so), until it has caught up once.
            if let node = nodes[slot], node.abstention == nil { wiped[slot] = false }
            nodes[slot] = nil
            pending.removeAll { $0.node == slot }
            log("node \(slot + 1) \(reason)")
            // Sometimes the disk is lost too, but never a second one before the first wiped node caught up.
            let othersIntact = nodes.indices.allSatisfy { other in
                other == slot || (!wiped[other] && nodes[other]?.abstention == nil)
            }
            if othersIntact && random.chance(settings.wipeRate) {
                // Its connections die with it: nothing sent by or to the old incarnation reaches the new one
                // (the transport drops what it queued while a peer was unreachable).
                network.dropAll(touching: slot)
                disks[slot] = Disk()
                reportedCommit[slot] = .zero
                wiped[slot] = true
                stats.wipes += 1
                log("node \(slot + 1) lost its disk")
            }
        }

        private mutating func start(_ slot: Int) {
            let node = Raft.Node(
                id: NodeID(UInt64(slot + 1)), configuration: configuration, hardState: disks[slot].hardState,
                storage: disks[slot].storage,
                options: settings.options, random: &random)
            var started = node
            if wiped[slot] { started.abstainUntilCaughtUp() }
            reportedCommit[slot] = started.commitIndex
            nodes[slot] = started
            log("node \(slot + 1) started at \(node.hardState)")
        }

        // MARK: - Convergence

        /// All nodes up, one leader, everyone applied everything the leader committed, including every
        /// acknowledged entry.
        private func isConverged() -> Bool {
            let live = nodes.compactMap { $0 }
            guard live.count == nodes.count, let leader = live.first(where: { $0.role == .leader }) else {
                return false
            }
            let highestAcknowledged = checker.acknowledged.keys.max() ?? .zero
            guard leader.commitIndex == leader.log.lastIndex, leader.commitIndex >= highestAcknowledged else {
                return false
            }
            // Removed nodes may never hear of their removal; only members must catch up.
            return live.filter { leader.configuration.members.contains($0.id) }.allSatisfy {
                $0.appliedIndex == leader.commitIndex && $0.leader == leader.id
            }
        }

        private func summary() -> String {
            nodes.enumerated().map { slot, node in
                guard let node else { return "\(slot + 1):down" }
                return "\(node.id):\(node.role) t\(node.term) last=\(node.log.lastIndex) commit=\(node.commitIndex) "
                    + "applied=\(node.appliedIndex) leader=\(node.leader.map(\.description) ?? "-")"
                    + node.progress.sorted { $0.key < $1.key }.map { " [\($0.key): \($0.value)]" }.joined()
            }.joined(separator: "; ")
        }

        private func log(_ text: @autoclosure () -> String) {
            if trace { print("[seed \(seed) tick \(tick)] \(text())") }
        }
    }
}
