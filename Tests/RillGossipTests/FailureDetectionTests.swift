import RillGossip
import RillModel
import Testing

/// Detection in seeded 5-member worlds: real instances, simulated network and clock. Ticks stand for 10 ms,
/// so the default settings give 1 s periods and a jitter of 10 ticks is 100 ms.
@Suite struct FailureDetectionTests {
    static let jitter = 10

    /// The longest a crash may go undetected anywhere, in protocol periods: a member is probed by each
    /// survivor within two shuffled rounds (2(n − 1) periods), the probe takes one period, a suspicion with no
    /// confirmation lasts the maximum timeout, and the verdict needs a few periods to reach the rest.
    static func detectionBound(_ settings: SWIM.Settings, members: Int) -> Int {
        let maxTimeout = settings.suspicionTimeout(confirmations: 0, liveMembers: members)
        let maxTimeoutPeriods = (maxTimeout + settings.protocolPeriod - 1) / settings.protocolPeriod
        return 2 * (members - 1) + 1 + maxTimeoutPeriods + 3
    }

    @Test("A crashed member is declared dead by every live member within the detection bound")
    func crashedMemberIsDeclaredDead() {
        let settings = GossipWorld.Settings(nodeCount: 5, maxJitter: Self.jitter)
        let bound = Self.detectionBound(settings.swim, members: 5)
        var slowest = 0
        for seed in TestEnvironment.seeds(base: 100) {
            var world = GossipWorld(seed: seed, settings: settings)
            world.run(periods: 5)
            #expect(world.converged, "seed \(seed): not converged after 5 periods")
            var random = SplitMix64(seed: seed)
            world.run(ticks: Int.random(in: 0..<world.period, using: &random))
            let victim = world.ids.randomElement(using: &random)!
            world.crash(victim)
            let taken = world.run(maxTicks: bound * world.period) { $0.everyone(sees: victim) { $0.isDead } }
            #expect(taken != nil, "seed \(seed): \(victim) not dead everywhere within \(bound) periods")
            #expect(world.falseAccusations(except: [victim]).isEmpty, "seed \(seed): a live member was accused")
            slowest = max(slowest, taken ?? Int.max)
        }
        let periods = slowest / settings.swim.protocolPeriod
        print("crash detection: slowest \(slowest) ticks (\(periods) periods), bound \(bound) periods")
    }

    @Test("Under 10% loss and 100 ms jitter no healthy member is ever declared dead")
    func noFalseDeathsUnderLoss() {
        let settings = GossipWorld.Settings(nodeCount: 5, loss: 0.10, maxJitter: Self.jitter)
        let periods = TestEnvironment.soakPeriods
        for seed in TestEnvironment.seeds(base: 200, count: TestEnvironment.soakSeedCount) {
            var world = GossipWorld(seed: seed, settings: settings)
            world.run(periods: periods)
            let deaths = world.changes.filter { $0.new.status.isDead || $0.new.status.isLeft }
            let suspicions = world.changes.filter { $0.new.status.isSuspect && !($0.old?.status.isSuspect ?? false) }
            #expect(
                deaths.isEmpty,
                "seed \(seed): \(deaths.count) false deaths, first \(deaths.first.map(describe) ?? "")"
            )
            let health = world.ids.compactMap { world.instance($0)?.localHealth }
            print(
                "lossy soak seed \(seed): \(periods) periods, \(world.delivered) delivered, \(world.dropped) lost, "
                    + "\(suspicions.count) suspicions refuted, final local health \(health)"
            )
        }
    }

    @Test("A paused member refutes its suspicion or rejoins after death; no one else is accused", arguments: [2, 60])
    func pausedMemberRecovers(pausePeriods: Int) {
        let settings = GossipWorld.Settings(nodeCount: 5, maxJitter: Self.jitter)
        for seed in TestEnvironment.seeds(base: 300) {
            var world = GossipWorld(seed: seed, settings: settings)
            world.run(periods: 5)
            var random = SplitMix64(seed: seed)
            world.run(ticks: Int.random(in: 0..<world.period, using: &random))
            let victim = world.ids.randomElement(using: &random)!
            let pausedAt = world.now
            world.pause(victim)
            world.run(periods: pausePeriods)
            world.resume(victim)
            let taken = world.run(maxTicks: 20 * world.period) { $0.converged }
            #expect(taken != nil, "seed \(seed): \(victim) not back within 20 periods of resuming")
            let accused = world.falseAccusations(except: [victim])
            #expect(accused.isEmpty, "seed \(seed): others accused: \(accused.prefix(3).map(describe))")
            let declaredDead = world.changes.contains {
                $0.tick >= pausedAt && $0.new.id == victim && $0.new.status.isDead
            }
            if pausePeriods <= 2 {
                // Suspicion needs a failed probe and then at least the minimum timeout (4 periods here).
                #expect(!declaredDead, "seed \(seed): a \(pausePeriods)-period pause should be refuted, not fatal")
            } else {
                // Longer than the detection bound: everyone must have given up on it before it came back.
                #expect(declaredDead, "seed \(seed): a \(pausePeriods)-period pause should be declared dead")
            }
        }
    }
}

func describe(_ change: GossipWorld.Change) -> String {
    "t=\(change.tick) \(change.observer) saw \(change.new)"
}

/// The same checks with the settings Rill runs (`SWIM.Settings.rill`: 500 ms periods, 1.5–2.5 s suspicion) in
/// the shape Rill runs them: three nodes and a router.
@Suite struct RillSettingsTests {
    static let settings = GossipWorld.Settings(nodeCount: 4, maxJitter: FailureDetectionTests.jitter, swim: .rill)

    @Test("With Rill's settings a crashed member is dead in every view within 5 s")
    func crashDetectedWithinFiveSeconds() {
        var slowest = 0
        for seed in TestEnvironment.seeds(base: 400, count: 4 * TestEnvironment.seedCount) {
            var world = GossipWorld(seed: seed, settings: Self.settings)
            world.run(periods: 10)
            var random = SplitMix64(seed: seed)
            world.run(ticks: Int.random(in: 0..<world.period, using: &random))
            let victim = world.ids.randomElement(using: &random)!
            world.crash(victim)
            // 500 ticks of 10 ms.
            let taken = world.run(maxTicks: 500) { $0.everyone(sees: victim) { $0.isDead } }
            #expect(taken != nil, "seed \(seed): \(victim) not dead everywhere within 5 s")
            #expect(world.falseAccusations(except: [victim]).isEmpty, "seed \(seed): a live member was accused")
            slowest = max(slowest, taken ?? Int.max)
        }
        print("rill settings crash detection: slowest \(slowest * 10) ms")
    }

    @Test("With Rill's settings, 10% loss and 100 ms jitter declare no healthy member dead")
    func noFalseDeathsUnderLoss() {
        var settings = Self.settings
        settings.loss = 0.10
        for seed in TestEnvironment.seeds(base: 500, count: TestEnvironment.soakSeedCount) {
            var world = GossipWorld(seed: seed, settings: settings)
            world.run(periods: TestEnvironment.soakPeriods)
            let deaths = world.changes.filter { $0.new.status.isDead || $0.new.status.isLeft }
            let suspicions = world.changes.filter { $0.new.status.isSuspect && !($0.old?.status.isSuspect ?? false) }
            #expect(deaths.isEmpty, "seed \(seed): \(deaths.count) false deaths")
            print(
                "rill settings lossy soak seed \(seed): \(TestEnvironment.soakPeriods) periods, \(suspicions.count) suspicions refuted"
            )
        }
    }
}
