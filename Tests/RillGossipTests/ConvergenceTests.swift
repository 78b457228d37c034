import RillGossip
import RillModel
import Testing

/// Views converge again after partitions, restarts and departures, in seeded 5-member worlds.
@Suite struct ConvergenceTests {
    static let settings = GossipWorld.Settings(nodeCount: 5, maxJitter: 10)

    @Test("After a partition long enough for both sides to declare the other dead, all views converge on healing")
    func partitionHeals() {
        let bound = FailureDetectionTests.detectionBound(Self.settings.swim, members: 5)
        // One reconnecting push-pull is due within `pushPullPeriods`; refutations then spread in a few rounds.
        let healBound = Self.settings.swim.pushPullPeriods + 20
        var slowest = 0
        for seed in TestEnvironment.seeds(base: 400) {
            var world = GossipWorld(seed: seed, settings: Self.settings)
            world.run(periods: 5)
            var random = SplitMix64(seed: seed)
            let shuffled = world.ids.shuffled(using: &random)
            let minority = Array(shuffled.prefix(2))
            let majority = Array(shuffled.dropFirst(2))
            world.partition([minority, majority])
            let split = world.run(maxTicks: 2 * bound * world.period) { world in
                minority.allSatisfy { id in majority.allSatisfy { world.view(of: $0, by: id)?.status.isDead == true } }
                    && majority.allSatisfy { id in
                        minority.allSatisfy { world.view(of: $0, by: id)?.status.isDead == true }
                    }
            }
            #expect(split != nil, "seed \(seed): the sides did not declare each other dead")
            // No loss inside a side, so no one may be accused by a member of its own side.
            let sameSide = world.falseAccusations().filter {
                minority.contains($0.observer) == minority.contains($0.new.id)
            }
            #expect(sameSide.isEmpty, "seed \(seed): accused within a side: \(sameSide.prefix(2).map(describe))")
            world.heal()
            let healed = world.run(maxTicks: healBound * world.period) { $0.converged }
            #expect(healed != nil, "seed \(seed): views not converged within \(healBound) periods of healing")
            slowest = max(slowest, healed ?? Int.max)
        }
        print("partition heal: slowest \(slowest / Self.settings.swim.protocolPeriod) periods, bound \(healBound)")
    }

    @Test(
        "A restarted member rejoins alive in every view",
        arguments: [(detectedFirst: false, fromZero: false), (true, false), (false, true), (true, true)]
    )
    func restartedMemberRejoins(detectedFirst: Bool, fromZero: Bool) {
        let bound = FailureDetectionTests.detectionBound(Self.settings.swim, members: 5)
        for seed in TestEnvironment.seeds(base: 500) {
            var world = GossipWorld(seed: seed, settings: Self.settings)
            world.run(periods: 5)
            var random = SplitMix64(seed: seed)
            let victim = world.ids.randomElement(using: &random)!
            let before = world.instance(victim)!.myself.incarnation
            world.crash(victim)
            if detectedFirst {
                let dead = world.run(maxTicks: bound * world.period) { $0.everyone(sees: victim) { $0.isDead } }
                #expect(dead != nil, "seed \(seed): crash not detected")
            } else {
                world.run(periods: 1)
            }
            // A shell would start from a persisted counter or a clock; from zero it must refute its old life.
            world.start(victim, incarnation: fromZero ? 0 : before + 1_000)
            let rejoined = world.run(maxTicks: 15 * world.period) { $0.converged }
            #expect(rejoined != nil, "seed \(seed): \(victim) not alive everywhere within 15 periods of restart")
            let now = world.instance(victim)!.myself.incarnation
            #expect(now > before || !detectedFirst, "seed \(seed): rejoined at \(now), old life \(before)")
            #expect(world.falseAccusations(except: [victim]).isEmpty, "seed \(seed): a live member was accused")
        }
    }

    @Test("After random crashes, restarts, pauses and partitions under 5% loss, views converge once faults stop")
    func chaosThenCalm() {
        var settings = Self.settings
        settings.loss = 0.05
        let calmBound = 2 * settings.swim.pushPullPeriods + 30
        var slowest = 0
        for seed in TestEnvironment.seeds(base: 900) {
            var world = GossipWorld(seed: seed, settings: settings)
            var random = SplitMix64(seed: seed ^ 0xC4A0_5C4A_05)
            for _ in 0..<300 {
                world.run(periods: 1)
                guard random.next() % 5 == 0 else { continue }
                let id = world.ids.randomElement(using: &random)!
                switch (random.next() % 5, world.slot(id).state) {
                case (0, .running): world.crash(id)
                case (1, .running): world.pause(id)
                case (_, .paused): world.resume(id)
                case (_, .crashed):
                    // Half the restarts come back from zero and must outbid their old life by refuting it.
                    world.start(id, incarnation: random.next() % 2 == 0 ? 0 : world.now)
                case (2, _): world.partition([world.ids.filter { _ in random.next() % 2 == 0 }])
                case (3, _): world.heal()
                default: break
                }
            }
            world.heal()
            for id in world.ids {
                switch world.slot(id).state {
                case .paused: world.resume(id)
                case .crashed: world.start(id, incarnation: 0)
                case .running: break
                }
            }
            let calm = world.run(maxTicks: calmBound * world.period) { $0.converged }
            #expect(calm != nil, "seed \(seed): views not converged within \(calmBound) periods of calm")
            slowest = max(slowest, calm ?? Int.max)
        }
        print("chaos then calm: slowest \(slowest / settings.swim.protocolPeriod) periods, bound \(calmBound)")
    }

    @Test("A graceful leave is seen as left, never dead, and a later incarnation may come back")
    func leaveIsLeftNotDead() {
        let bound = FailureDetectionTests.detectionBound(Self.settings.swim, members: 5)
        for seed in TestEnvironment.seeds(base: 600) {
            var world = GossipWorld(seed: seed, settings: Self.settings)
            world.run(periods: 5)
            var random = SplitMix64(seed: seed)
            let leaver = world.ids.randomElement(using: &random)!
            let leftAt = world.now
            let incarnation = world.instance(leaver)!.myself.incarnation
            world.leave(leaver)
            world.run(periods: 1)
            world.crash(leaver)
            world.run(periods: bound)
            #expect(world.everyone(sees: leaver) { $0.isLeft }, "seed \(seed): \(leaver) not left everywhere")
            let accused = world.changes.filter {
                $0.tick >= leftAt && $0.new.id == leaver && ($0.new.status.isDead || $0.new.status.isSuspect)
            }
            #expect(
                accused.isEmpty,
                "seed \(seed): \(leaver) suspected or dead after leaving: \(accused.prefix(2).map(describe))"
            )
            #expect(world.falseAccusations(except: [leaver]).isEmpty, "seed \(seed): a live member was accused")
            world.start(leaver, incarnation: incarnation + 1)
            let back = world.run(maxTicks: 15 * world.period) { $0.converged }
            #expect(back != nil, "seed \(seed): \(leaver) did not come back after leaving")
        }
    }
}
