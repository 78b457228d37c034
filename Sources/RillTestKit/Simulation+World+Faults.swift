import RillModel
import RillRaft

extension Simulation.World {
    // MARK: - Faults

    mutating func injectFaults() throws(Simulation.CheckFailure) {
        let count = replicas.count
        let tick = tick
        for planned in ledger.plannedCrashes where planned.tick <= tick && replicas[planned.slot] != nil {
            ledger.stats.crashes += 1
            try crash(planned.slot, reason: "crashed as planned")
        }
        ledger.plannedCrashes.removeAll { $0.tick <= tick }
        for planned in ledger.plannedIsolations where planned.tick <= tick {
            ledger.stats.partitions += 1
            network.isolate(planned.slot)
            ledger.log("isolate \(planned.slot + 1)")
        }
        ledger.plannedIsolations.removeAll { $0.tick <= tick }
        if ledger.random.chance(settings.crashRate) {
            let slot = ledger.random.int(in: 0...(count - 1))
            if replicas[slot] != nil {
                ledger.stats.crashes += 1
                try crash(slot, reason: "crashed")
            }
        }
        // A crash while a flush round is under way: what the round was about to sync is lost, or torn.
        for slot in 0..<count
        where replicas[slot]?.rounds.isBusy == true && ledger.random.chance(settings.tornWriteRate) {
            ledger.stats.tornWrites += 1
            try crash(slot, reason: "crashed before its flush round ended")
        }
        for slot in 0..<count where replicas[slot] == nil && ledger.random.chance(settings.restartRate) {
            try start(slot)
        }
        if ledger.random.chance(settings.partitionRate) {
            // Split into two random sides, both ways.
            ledger.stats.partitions += 1
            let side = network.partition(random: &ledger.random)
            ledger.log("partition \(side)")
        }
        if ledger.random.chance(settings.linkCutRate) {
            // An asymmetric fault: one direction of one link.
            let (a, b) = network.cutOneWay(random: &ledger.random)
            ledger.stats.linkCuts += 1
            ledger.log("cut \(a + 1)->\(b + 1)")
        }
        if ledger.random.chance(settings.healRate) { healNetwork() }
        if ledger.random.chance(settings.membershipRate) { try changeMembership() }
        if ledger.random.chance(settings.compactionRate) { try compactSomewhere() }
        if ledger.random.chance(settings.transferRate) {
            if let slot = replicas.indices.first(where: { status($0)?.role == .leader }),
                let driver = replicas[slot]?.driver
            {
                let target = NodeID(UInt64(ledger.random.int(in: 1...count)))
                executor.run { await driver.transferLeadership(to: target) }
                ledger.stats.transfers += 1
                try settle()
            }
        }
    }

    /// The leader takes one step toward a membership target, as the nodes' controller does
    /// (`RaftGroupDriver.reconfigure(toward:)`): a random set of voters, the rest of the world learners.
    private mutating func changeMembership() throws(Simulation.CheckFailure) {
        guard let slot = replicas.indices.first(where: { status($0)?.role == .leader }),
            let driver = replicas[slot]?.driver
        else { return }
        if reconfigurationTarget.map({ target in status(slot).map { target.isReached(by: $0.configuration) } ?? true })
            ?? true
        {
            var voters: Set<NodeID> = []
            let size = ledger.random.int(in: 3...replicas.count)
            while voters.count < size { voters.insert(NodeID(UInt64(ledger.random.int(in: 1...replicas.count)))) }
            reconfigurationTarget = Raft.Reconfiguration(voters: voters)
            ledger.log("membership target \(voters.sorted())")
        }
        guard let target = reconfigurationTarget else { return }
        let progress = executor.run { await driver.reconfigure(toward: target) }
        if case .moving(let step?) = progress {
            if case .transferLeadership = step {
                ledger.stats.transfers += 1
            } else {
                ledger.stats.membershipChanges += 1
            }
            ledger.log("node \(slot + 1) steps toward the target: \(step)")
        }
        try settle()
    }

    /// A node compacts its log below an applied index, as a committed `trim` makes it do.
    private mutating func compactSomewhere() throws(Simulation.CheckFailure) {
        let slot = ledger.random.int(in: 0...(replicas.count - 1))
        guard let driver = replicas[slot]?.driver, let applied = status(slot)?.applied, applied > .zero else { return }
        let through = LogIndex(applied.rawValue - min(applied.rawValue - 1, UInt64(ledger.random.int(in: 0...3))))
        let compacted = executor.run { () async -> Bool in
            do {
                try await driver.compact(before: through.next)
                return true
            } catch {
                return false
            }
        }
        if compacted {
            ledger.stats.compactions += 1
            ledger.log("node \(slot + 1) compacts through \(through)")
        }
        try settle()
    }

    private mutating func healNetwork() {
        network.heal()
        ledger.log("heal")
    }

    mutating func healAll() throws(Simulation.CheckFailure) {
        healNetwork()
        for slot in replicas.indices where replicas[slot] == nil { try start(slot) }
    }
}
