import RillModel
import RillRaft
import RillReplication

extension Simulation {
    /// A seeded world of 3–5 nodes, each running the real `RaftGroupDriver` over the real `SegmentedLogStorage`
    /// and `RaftStateLog` on a simulated disk that loses unsynced writes on a crash, with flush rounds that take
    /// simulated time and can fail an fsync, a lossy network and a manual clock. Every task of every driver runs
    /// on the world's `Executor`, so a seed replays exactly; the `Checker` sees each Ready as the driver performs
    /// it (`ReadyProbe`) and each acknowledgement as `propose` returns it.
    public struct World {
        public let seed: UInt64
        public let settings: Settings
        public var tick: Int { ledger.tick }
        public var stats: Stats { ledger.stats }
        public var checker: Checker { ledger.checker }
        /// Print every event, for replaying a failing seed.
        public var trace: Bool {
            get { ledger.trace }
            nonmutating set { ledger.trace = newValue }
        }

        /// The simulated length of a tick: the drivers' clock moves by this much per tick.
        static let tickLength = Duration.milliseconds(100)

        let ledger: Ledger
        let executor = Executor()
        let clock = ManualClock()
        /// Each node's disk; replaced by an empty one when a crash wipes it.
        var disks: [FileSystem]
        /// The running incarnation of each node; nil while it is down.
        var replicas: [Replica?]
        /// Nodes whose disk was wiped or found damaged and that have not caught up since: they start abstaining.
        var wiped: [Bool]
        let configuration: Raft.Configuration
        /// The lossy wire between the nodes, messages addressed by slot.
        var network: Network<Raft.Message>
        var nextPayload: UInt64 = 0
        /// Proposals under way: each task ends when its driver answers or stops.
        var proposals: [Task<Void, Never>] = []
        /// Where the leader walks the membership with the shells' policy (`Raft.Reconfiguration`), when it does.
        var reconfigurationTarget: Raft.Reconfiguration?

        public init(seed: UInt64, settings: Settings) {
            self.seed = seed
            self.settings = settings
            self.ledger = Ledger(seed: seed, settings: settings)
            let ids = (1...settings.nodeCount).map { NodeID(UInt64($0)) }
            let voterCount = min(settings.initialVoters ?? settings.nodeCount, settings.nodeCount)
            self.configuration = Raft.Configuration(
                voters: Set(ids.prefix(voterCount)),
                learners: Set(ids.dropFirst(voterCount))
            )
            self.disks = (0..<settings.nodeCount).map { _ in FileSystem() }
            self.replicas = Array(repeating: nil, count: settings.nodeCount)
            self.wiped = Array(repeating: false, count: settings.nodeCount)
            self.network = Network(nodeCount: settings.nodeCount)
            ledger.stats.seeds = 1
        }

        /// Runs the faulty phase, heals everything and checks that every acknowledged entry reaches every node;
        /// then stops every driver.
        public mutating func run() throws(Violation) -> Stats {
            defer { shutDown() }
            do throws(CheckFailure) {
                for slot in 0..<settings.nodeCount { try start(slot) }
                while tick < settings.ticks { try step() }
                try healAll()
                ledger.faulty = false
                // A wiped node copies the whole log back, one small append per round trip in these worlds.
                let longestLog = replicas.compactMap { $0?.driver.storage.log.lastIndex.rawValue }.max() ?? 0
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
            if ledger.faulty { try injectFaults() }
            if settings.restChecks {
                try updateGossip()
                if tick % settings.restCheckTicks == 0 { try runRestCheck() }
            }
            if ledger.faulty && ledger.random.chance(settings.proposeRate) { try proposeSomewhere() }
            for slot in replicas.indices {
                guard let driver = replicas[slot]?.driver else { continue }
                executor.run { await driver.tick() }
                try settle()
            }
            // Deliver what is due, in random order: delays and this shuffle reorder messages.
            for item in network.takeDue(tick: tick, random: &ledger.random) {
                guard let driver = replicas[item.to]?.driver else { continue }
                // A partition also loses what was already on the wire.
                if network.isBlocked(from: item.from, to: item.to) {
                    ledger.stats.dropped += 1
                    continue
                }
                ledger.log("deliver \(item.message)")
                driver.enqueue([item.message])
                executor.runUntilIdle()
                try settle()
            }
            try runFlushRounds()
            ledger.tick += 1
            clock.advance(to: Self.tickLength * tick)
            executor.runUntilIdle()
            try settle()
        }

        /// After the drivers ran: throws what the checker found, and puts what they sent on the wire.
        mutating func settle() throws(CheckFailure) {
            if let failure = ledger.failure { throw failure }
            let outgoing = ledger.outbox
            ledger.outbox = []
            for item in outgoing {
                network.send(
                    item.message,
                    from: item.from,
                    to: Int(item.message.to.rawValue) - 1,
                    tick: tick,
                    faulty: ledger.faulty,
                    settings: settings,
                    random: &ledger.random,
                    stats: &ledger.stats
                )
            }
        }

        /// Ends the flush rounds that are due and starts the next ones, each taking 0...maxFlushDelay ticks (or,
        /// on a slow disk, up to maxSlowFlushDelay); a round that starts with no delay ends in this tick too. A
        /// failed fsync crashes its node.
        private mutating func runFlushRounds() throws(CheckFailure) {
            for _ in 0..<3 {
                for slot in replicas.indices {
                    guard let replica = replicas[slot] else { continue }
                    // Only a round's own sync fails: the rule under test is the flush round's.
                    if ledger.faulty, replica.rounds.isDue(at: tick), ledger.random.chance(settings.syncFailureRate) {
                        disks[slot].failNextSync()
                    }
                    if let error = replica.rounds.finishRound(at: tick) {
                        ledger.stats.syncFailures += 1
                        try crash(slot, reason: "stopped by a failed fsync (\(error))")
                        continue
                    }
                    executor.runUntilIdle()
                    try settle()
                    if replica.rounds.canStart {
                        let slow = ledger.random.chance(settings.slowFlushRate)
                        let delay = ledger.random.int(
                            in: 0...(slow ? settings.maxSlowFlushDelay : settings.maxFlushDelay)
                        )
                        replica.rounds.startRound(endsAt: tick + delay)
                    }
                }
            }
        }

        // MARK: - Clients

        private mutating func proposeSomewhere() throws(CheckFailure) {
            // Mostly to a leader; sometimes to anyone, who may refuse.
            let leaders = replicas.indices.filter { self.ledger.roles[$0] == .leader }
            let slot = leaders.randomElement(using: &ledger.random) ?? ledger.random.int(in: 0...(replicas.count - 1))
            guard let driver = replicas[slot]?.driver else { return }
            nextPayload += 1
            let payload = withUnsafeBytes(of: nextPayload.bigEndian) { Array($0) }
            let stamp = Int64(tick)
            let ledger = ledger
            ledger.proposalsInFlight += 1
            proposals.append(
                Task(executorPreference: executor) {
                    defer { ledger.proposalsInFlight -= 1 }
                    do {
                        let index = try await driver.propose(kind: .records, payload: payload, timestampMillis: stamp)
                        ledger.acknowledged(index, payload: payload, on: slot)
                    } catch {
                        // Refused, superseded or indeterminate: the client was not told it is written.
                    }
                }
            )
            executor.runUntilIdle()
            try settle()
        }

        // MARK: - Nodes

        func status(_ slot: Int) -> RaftGroupDriver.Status? {
            replicas[slot]?.status(executor: executor)
        }

        mutating func start(_ slot: Int) throws(CheckFailure) {
            let replica = try Replica.start(
                slot: slot,
                disk: disks[slot],
                configuration: configuration,
                abstain: wiped[slot],
                settings: settings,
                ledger: ledger,
                executor: executor,
                clock: clock
            )
            if case .damaged(let reason, _) = replica.recovery {
                wiped[slot] = true
                ledger.stats.damagedRecoveries += 1
                ledger.log("node \(slot + 1) found its log damaged: \(reason)")
            }
            replicas[slot] = replica
            ledger.roles[slot] = ledger.roles[slot] ?? .follower
            ledger.log("node \(slot + 1) started (recovery: \(replica.recovery))")
            try settle()
        }

        mutating func crash(_ slot: Int, reason: String) throws(CheckFailure) {
            guard let replica = replicas[slot] else { return }
            // A wiped node abstains, across restarts too (its marker file says so), until it has caught up once.
            if replica.status(executor: executor).abstaining == false { wiped[slot] = false }
            replica.crash(disk: disks[slot], ledger: ledger, executor: executor)
            replicas[slot] = nil
            ledger.reportedCommit[slot] = .zero
            ledger.roles[slot] = nil
            ledger.log("node \(slot + 1) \(reason)")
            // Sometimes the disk is lost too, but never a second one before the first wiped node caught up.
            let othersIntact = replicas.indices.allSatisfy { other in
                other == slot || (!wiped[other] && status(other)?.abstaining != true)
            }
            if othersIntact && ledger.random.chance(settings.wipeRate) {
                // Its connections die with it: nothing sent by or to the old incarnation reaches the new one
                // (the transport drops what it queued while a peer was unreachable).
                network.dropAll(touching: slot)
                disks[slot] = FileSystem()
                wiped[slot] = true
                ledger.stats.wipes += 1
                ledger.log("node \(slot + 1) lost its disk")
            }
            try settle()
        }

        /// Stops every driver and checks that no task of the world is left behind.
        private mutating func shutDown() {
            for slot in replicas.indices {
                guard let replica = replicas[slot] else { continue }
                ledger.incarnations[slot] += 1
                replica.rounds.fail()
                let driver = replica.driver
                executor.run { await driver.stop() }
                replicas[slot] = nil
            }
            executor.runUntilIdle()
            precondition(ledger.proposalsInFlight == 0, "a proposal outlived its driver")
            proposals = []
        }

        // MARK: - Convergence

        /// All nodes up, one leader, everyone applied everything the leader committed, including every
        /// acknowledged entry.
        private func isConverged() -> Bool {
            let statuses = replicas.indices.map { status($0) }
            let live = statuses.compactMap { $0 }
            guard live.count == replicas.count, let leader = live.first(where: { $0.role == .leader }),
                let leaderID = leader.leader
            else {
                return false
            }
            let highestAcknowledged = checker.acknowledged.keys.max() ?? .zero
            guard leader.commit == leader.lastIndex, leader.commit >= highestAcknowledged else { return false }
            // Removed nodes may never hear of their removal; only members must catch up.
            return live.enumerated().filter { leader.configuration.members.contains(NodeID(UInt64($0.offset + 1))) }
                .allSatisfy { $0.element.applied == leader.commit && $0.element.leader == leaderID }
        }

        func summary() -> String {
            replicas.indices.map { slot in
                guard let status = status(slot) else { return "\(slot + 1):down" }
                return "\(slot + 1):\(status.role) t\(status.term) last=\(status.lastIndex) commit=\(status.commit) "
                    + "applied=\(status.applied) leader=\(status.leader.map(\.description) ?? "-")"
                    + (status.abstaining ? " abstaining" : "")
            }.joined(separator: "; ")
        }
    }
}
