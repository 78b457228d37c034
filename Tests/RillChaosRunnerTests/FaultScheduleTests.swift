import Testing

@testable import RillChaosRunner

@Suite struct FaultScheduleTests {
    @Test func theSameSeedGivesTheSamePlans() {
        var first = FaultSchedule(seed: 7, kinds: NemesisKind.supported, nodes: 3, shards: 4)
        var second = FaultSchedule(seed: 7, kinds: NemesisKind.supported, nodes: 3, shards: 4)
        for _ in 0..<50 { #expect(first.next() == second.next()) }
    }

    @Test func differentSeedsGiveDifferentPlans() {
        var first = FaultSchedule(seed: 1, kinds: NemesisKind.supported, nodes: 3, shards: 4)
        var second = FaultSchedule(seed: 2, kinds: NemesisKind.supported, nodes: 3, shards: 4)
        let a = (0..<20).map { _ in first.next() }
        let b = (0..<20).map { _ in second.next() }
        #expect(a != b)
    }

    @Test func plansUseOnlyTheChosenKindsAndValidTargets() {
        var schedule = FaultSchedule(seed: 3, kinds: [.kill, .wipe], nodes: 3, shards: 2)
        for _ in 0..<200 {
            let plan = schedule.next()
            #expect([NemesisKind.kill, .wipe].contains(plan.kind))
            switch plan.action {
            case .kill(let target), .wipe(let target), .pause(let target):
                switch target {
                case .node(let index): #expect((0..<3).contains(index))
                case .leaderOf(let shard): #expect((0..<2).contains(shard))
                }
            case .allKill:
                Issue.record("allkill was not chosen")
            }
        }
    }

    @Test(arguments: NemesisKind.supported)
    func durationsStayInTheirRanges(kind: NemesisKind) {
        let ranges: [NemesisKind: ClosedRange<Duration>] = [
            .kill: .milliseconds(500) ... .milliseconds(2500), .pause: .seconds(2) ... .seconds(5),
            .wipe: .milliseconds(500) ... .milliseconds(1500), .allkill: .milliseconds(500) ... .seconds(2),
        ]
        var schedule = FaultSchedule(seed: 11, kinds: [kind], nodes: 3, shards: 4)
        for _ in 0..<100 {
            let plan = schedule.next()
            #expect(plan.kind == kind)
            #expect(ranges[kind]?.contains(plan.downFor) == true)
            #expect((Duration.milliseconds(500) ... .milliseconds(1500)).contains(plan.quietBefore))
        }
    }

    /// CI asks for ten faults in 60 s; the plans alone (quiet plus down time) must leave room for recovery.
    @Test func aMinuteOfPlansHoldsWellOverTenFaults() {
        for seed in UInt64(1)...20 {
            var schedule = FaultSchedule(seed: seed, kinds: NemesisKind.supported, nodes: 3, shards: 4)
            var elapsed = Duration.zero
            var count = 0
            // Allow a second of recovery per fault, more than a restarted node usually needs.
            while true {
                let plan = schedule.next()
                elapsed += plan.quietBefore + plan.downFor + .seconds(1)
                guard elapsed < .seconds(58) else { break }
                count += 1
            }
            #expect(count >= 10, "seed \(seed) fits only \(count) faults")
        }
    }
}
