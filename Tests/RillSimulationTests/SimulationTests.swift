import Foundation
import RillModel
import RillRaft
import RillTestKit
import Synchronization
import Testing

/// Runs the real `RaftGroupDriver` over the real `SegmentedLogStorage` on simulated disks in many seeded worlds
/// and checks the safety properties after every Ready and every acknowledgement.
///
/// `RILL_SIM_SEEDS` sets the seed count (default 10,000), `RILL_SIM_STEPS` the faulty ticks per seed,
/// `RILL_SIM_SEED` replays one seed and `RILL_SIM_TRACE=1` prints its events.
@Suite struct SimulationTests {
    static let environment = ProcessInfo.processInfo.environment
    static let seedCount = environment["RILL_SIM_SEEDS"].flatMap(Int.init) ?? 10_000
    static let ticks = environment["RILL_SIM_STEPS"].flatMap(Int.init) ?? 300
    static let replaySeed = environment["RILL_SIM_SEED"].flatMap(UInt64.init)
    static let trace = environment["RILL_SIM_TRACE"] == "1"

    /// Seeds split into shards so the test runner can use both cores.
    static let shardCount = 4
    /// Totals over finished shards, for one summary line.
    static let totals = Mutex<(shards: Int, stats: Simulation.Stats)>((0, Simulation.Stats()))

    /// The world's shape is a function of the seed too: odd seeds run five nodes, even seeds three; small
    /// append batches and pipelines split replication into many messages, which exposes ordering bugs; nodes
    /// compact their logs, so lagging followers get snapshots; five-node worlds change membership; in
    /// three-node worlds a crash sometimes wipes the disk (the node then abstains until caught up). Wipes stay
    /// out of five-node worlds: a member demoted in its own log but not yet in the others' stops campaigning
    /// there, and with a wiped voter that is two unavailable voters of four, which no Raft can elect through.
    static func settings(seed: UInt64) -> Simulation.Settings {
        var random = Simulation.Random(seed: seed ^ 0x5EED_5EED)
        let options = Raft.Options(
            electionTicks: 10,
            heartbeatTicks: random.int(in: 1...3),
            preVote: true,
            checkQuorum: true,
            maxEntriesPerAppend: random.int(in: 1...8),
            maxInflightAppends: random.int(in: 1...8)
        )
        let nodeCount = seed % 2 == 0 ? 3 : 5
        // Five-node worlds start with three voters and two learners half the time, and change membership.
        var settings = Simulation.Settings(
            nodeCount: nodeCount,
            ticks: ticks,
            options: options,
            membershipRate: nodeCount == 5 ? 0.02 : 0,
            compactionRate: 0.02,
            initialVoters: random.chance(0.5) ? 3 : nodeCount,
            wipeRate: nodeCount == 3 ? 0.2 : 0
        )
        // Half the worlds leave the commit index to ride on later appends and heartbeats, as shard groups do.
        // Drawn last, so the draws above (and the worlds of seeds replayed before this option) stay the same.
        settings.options.eagerCommitNotice = random.chance(0.5)
        // Segments from a few entries to a few hundred: logs roll, write indexes and trim whole segments.
        settings.segmentBytes = random.int(in: 256...16_384)
        // Half the worlds rest as a node's groups do: followers rest on a leader gossip sees alive, leaders do not
        // nudge themselves, and the world's rest check wakes a leader whose member disagrees (`RestCheck`).
        settings.restChecks = random.chance(0.5)
        // Most of those write rarely, so that groups rest between writes and faults find them resting.
        if settings.restChecks { settings.proposeRate = random.chance(0.75) ? 0.03 : 0.5 }
        return settings
    }

    @Test("Raft safety holds in seeded 3- and 5-node worlds", arguments: 0..<shardCount)
    func safetyUnderFaults(shard: Int) throws {
        var total = Simulation.Stats()
        let start = ContinuousClock.now
        let seeds: [UInt64] =
            if let replaySeed = Self.replaySeed { shard == 0 ? [replaySeed] : [] } else {
                Array(stride(from: UInt64(shard), to: UInt64(Self.seedCount), by: Self.shardCount))
            }
        for seed in seeds {
            let settings = Self.settings(seed: seed)
            var world = Simulation.World(seed: seed, settings: settings)
            world.trace = Self.trace
            do {
                total.add(try world.run())
            } catch {
                Issue.record("\(error)")
                return
            }
        }
        print("simulation shard \(shard): \(total) in \(ContinuousClock.now - start)")
        let summary: Simulation.Stats? = Self.totals.withLock { totals in
            totals.shards += 1
            totals.stats.add(total)
            return totals.shards == Self.shardCount ? totals.stats : nil
        }
        if let summary { print("simulation summary: \(summary) ticks/seed=\(Self.ticks)") }
    }

    @Test("a failed fsync is fatal: with every flush round failing, nothing is acknowledged, and recovery heals")
    func failedFsyncsNeverAcknowledge() throws {
        for seed: UInt64 in [3, 4] {
            var settings = Self.settings(seed: seed)
            settings.ticks = 200
            settings.syncFailureRate = 1
            var world = Simulation.World(seed: seed, settings: settings)
            let stats = try world.run()
            #expect(stats.syncFailures > 0)
            #expect(stats.acknowledged == 0)
        }
    }

    @Test("the same seed replays the same run")
    func replayIsDeterministic() throws {
        for seed: UInt64 in [1, 2] {
            var first = Simulation.World(seed: seed, settings: Self.settings(seed: seed))
            var second = Simulation.World(seed: seed, settings: Self.settings(seed: seed))
            let a = try first.run()
            let b = try second.run()
            #expect(a.description == b.description)
            #expect(first.tick == second.tick)
        }
    }
}
