import RillModel
import RillRaft

extension Simulation {
    /// What a world's drivers report as they run, and what the world decides from it: the checker, the
    /// statistics, the seeded generator and the messages waiting to go on the wire. The drivers reach it
    /// through their `ReadyProbe`, `send` and `apply` closures, so it is a reference shared with them.
    ///
    /// `@unchecked Sendable`: it is only ever touched on the world's thread — by the world, and by the drivers'
    /// closures, which run inside jobs that the world's `Executor` runs on that same thread, one at a time.
    final class Ledger: @unchecked Sendable {
        struct Outgoing {
            var from: Int
            var message: Raft.Message
        }

        let seed: UInt64
        let settings: Settings
        var random: Random
        var checker = Checker()
        var stats = Stats()
        var tick = 0
        var faulty = true
        var trace = false
        /// The first broken property; the world throws it once the running jobs are done.
        var failure: CheckFailure?
        /// Each slot's current incarnation: what a crashed driver still does is ignored.
        var incarnations: [Int]
        /// The commit index each slot's current driver last wrote, for the checker.
        var reportedCommit: [LogIndex]
        /// What each slot's gossip sees of each other slot (`restChecks` worlds): the incarnation it saw alive,
        /// nil when it sees it gone. Read by the drivers' `isAlive`.
        var gossip: [[Int?]]
        /// Messages sent since the world last put them on the wire, in order.
        var outbox: [Outgoing] = []
        /// Crashes planned for new leaders: node slot and tick.
        var plannedCrashes: [(slot: Int, tick: Int)] = []
        /// Isolations planned for new leaders: node slot and tick.
        var plannedIsolations: [(slot: Int, tick: Int)] = []
        /// Each slot's role as its current driver last reported it (nil while down): clients find leaders by
        /// it without asking every driver.
        var roles: [Raft.Role?]
        /// Proposals whose driver call has not returned yet.
        var proposalsInFlight = 0

        init(seed: UInt64, settings: Settings) {
            self.seed = seed
            self.settings = settings
            self.random = Random(seed: seed)
            self.incarnations = Array(repeating: 0, count: settings.nodeCount)
            self.reportedCommit = Array(repeating: .zero, count: settings.nodeCount)
            self.roles = Array(repeating: nil, count: settings.nodeCount)
            self.gossip = Array(repeating: Array(repeating: nil, count: settings.nodeCount), count: settings.nodeCount)
        }

        /// Whether slot `observer`'s gossip sees node `id` alive.
        func sees(_ observer: Int, alive id: NodeID) -> Bool {
            let slot = Int(id.rawValue) - 1
            return gossip.indices.contains(slot) && gossip[observer][slot] != nil
        }

        func check(_ body: () throws(CheckFailure) -> Void) {
            guard failure == nil else { return }
            do { try body() } catch { failure = error }
        }

        func log(_ text: @autoclosure () -> String) {
            if trace { print("[seed \(seed) tick \(tick)] \(text())") }
        }

        // MARK: - From the drivers

        /// A driver took a Ready (`ReadyProbe.taken`): a new leader must be the term's only one and hold
        /// everything committed and acknowledged before.
        func taken(_ ready: Raft.Ready, _ node: Raft.Core, slot: Int, incarnation: Int) {
            guard incarnations[slot] == incarnation, let soft = ready.softState else { return }
            roles[slot] = soft.role
            guard soft.role == .leader else { return }
            stats.elections += 1
            log("node \(node.id) leads term \(node.term)")
            check { () throws(CheckFailure) in try checker.leaderElected(node) }
            if faulty && random.chance(settings.newLeaderCrashRate) {
                plannedCrashes.append((slot, tick + random.int(in: 0...6)))
            }
            if faulty && random.chance(settings.newLeaderIsolateRate) {
                plannedIsolations.append((slot, tick + random.int(in: 0...3)))
            }
        }

        /// A driver wrote a Ready's entries and hard state (`ReadyProbe.written`), not yet synced.
        func written(_ ready: Raft.Ready, _ node: Raft.Core, slot: Int, incarnation: Int) {
            guard incarnations[slot] == incarnation else { return }
            if ready.snapshot != nil { stats.snapshotsInstalled += 1 }
            check { () throws(CheckFailure) in
                try checker.appended(ready.entries, on: node)
                if let hardState = ready.hardState, hardState.commit > reportedCommit[slot] {
                    try checker.committed(through: hardState.commit, after: reportedCommit[slot], on: node)
                    reportedCommit[slot] = hardState.commit
                }
            }
        }

        /// A driver handed messages to its transport.
        func send(_ messages: [Raft.Message], from slot: Int, incarnation: Int) {
            guard incarnations[slot] == incarnation else { return }
            for message in messages { outbox.append(Outgoing(from: slot, message: message)) }
        }

        /// A driver applied committed entries.
        func applied(_ entries: [LogEntry], on slot: Int, incarnation: Int) {
            guard incarnations[slot] == incarnation else { return }
            for entry in entries {
                check { () throws(CheckFailure) in try checker.applied(entry, on: NodeID(UInt64(slot + 1))) }
                if entry.kind == .records { stats.commits += 1 }
            }
        }

        /// `propose` returned `index` to the client that proposed `payload`: the record is acknowledged, and
        /// must be the client's own (the driver applied it before answering).
        func acknowledged(_ index: LogIndex, payload: [UInt8], on slot: Int) {
            check { () throws(CheckFailure) in
                guard let entry = checker.appliedEntry(at: index), entry.kind == .records, entry.payload == payload
                else {
                    throw CheckFailure(
                        "acknowledged the proposal",
                        "node \(slot + 1) acknowledged \(index), which is not the proposal"
                    )
                }
                stats.acknowledged += 1
                try checker.acknowledge(entry)
            }
        }
    }
}
