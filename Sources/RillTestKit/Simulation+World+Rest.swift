import RillModel
import RillReplication

extension Simulation.World {
    // MARK: - Gossip and the rest check (`Settings.restChecks`)

    /// Gossip as an oracle, with a node's news: a slot sees another alive while it runs and the link between
    /// them is open in at least one direction. That is what SWIM's indirect probes make of a one-way cut, and
    /// the hard case for resting: a follower may rest on a leader whose messages cannot reach it. A change is
    /// told to the observer's driver as the node's gossip observer tells its groups (`MemberNews`): gone or
    /// restarted as "may be gone", alive again or restarted as "back".
    mutating func updateGossip() throws(Simulation.CheckFailure) {
        for observer in replicas.indices {
            for other in replicas.indices where other != observer {
                let open =
                    !network.isBlocked(from: observer, to: other) || !network.isBlocked(from: other, to: observer)
                let now: Int? = replicas[other] != nil && open ? ledger.incarnations[other] : nil
                let before = ledger.gossip[observer][other]
                guard now != before else { continue }
                ledger.gossip[observer][other] = now
                let id = NodeID(UInt64(other + 1))
                let news = MemberNews(
                    mayBeGone: before != nil ? id : nil,
                    isBack: now != nil ? id : nil
                )
                // Gossip's news is not certain to arrive (a suspicion refuted before it spread, a restart seen
                // only as a new incarnation later): some is lost, and what it would have woken must be found by
                // the rest check.
                guard !ledger.random.chance(settings.gossipNewsLossRate) else {
                    ledger.log("node \(observer + 1) gossip: \(other + 1) \(now == nil ? "gone" : "alive") (news lost)")
                    continue
                }
                ledger.log("node \(observer + 1) gossip: \(other + 1) \(now == nil ? "gone" : "alive")")
                replicas[observer]?.driver.enqueueWakeUp(news)
            }
        }
        executor.runUntilIdle()
        try settle()
    }

    /// What `Node.checkRestingGroups` does once a second: every resting replica's view goes to the nodes it
    /// names (a leader's to its other members, a follower's to its leader), whose answers, read from their
    /// drivers' resting statuses, wake it when they disagree; a node that cannot be asked (down, or the link cut
    /// either way: a call needs its answer) wakes it too.
    mutating func runRestCheck() throws(Simulation.CheckFailure) {
        for slot in replicas.indices {
            guard let driver = replicas[slot]?.driver, let status = driver.restingStatus else { continue }
            let calls = RestCheck.calls(resting: [(Simulation.Replica.group, status)], me: driver.id)
            guard !calls.isEmpty else { continue }
            var wake = false
            for (member, entries) in calls {
                let other = Int(member.rawValue) - 1
                guard replicas.indices.contains(other), let answering = replicas[other]?.driver,
                    !network.isBlocked(from: slot, to: other), !network.isBlocked(from: other, to: slot)
                else {
                    wake = true
                    continue
                }
                if !RestCheck.disagreeing(entries, me: member, local: { _ in answering.restingStatus }).isEmpty {
                    wake = true
                }
            }
            ledger.stats.restChecks += 1
            if wake {
                ledger.stats.restWakes += 1
                ledger.log("rest check wakes node \(slot + 1) (\(status.role))")
                driver.enqueueWakeUp()
            }
        }
        executor.runUntilIdle()
        try settle()
    }
}
