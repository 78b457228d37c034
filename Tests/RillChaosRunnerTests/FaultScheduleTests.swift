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
            default:
                Issue.record("\(plan.kind) was not chosen")
            }
        }
    }

    @Test(arguments: NemesisKind.supported)
    func durationsStayInTheirRanges(kind: NemesisKind) {
        let ranges: [NemesisKind: ClosedRange<Duration>] = [
            .kill: .milliseconds(500) ... .milliseconds(2500), .pause: .seconds(2) ... .seconds(5),
            .wipe: .milliseconds(500) ... .milliseconds(1500), .allkill: .milliseconds(500) ... .seconds(2),
            .partition: .seconds(2) ... .seconds(5), .clock: .seconds(2) ... .seconds(5),
            .disk: .milliseconds(500) ... .milliseconds(1500), .powerloss: .milliseconds(500) ... .seconds(2),
            .delay: .seconds(2) ... .seconds(5), .netpartition: .seconds(2) ... .seconds(5),
            .reshard: .zero ... .zero, .replace: .milliseconds(500) ... .milliseconds(1500),
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

    @Test func partitionsCutValidNodesWithProbabilitiesFromHalfToAll() {
        var schedule = FaultSchedule(seed: 5, kinds: [.partition], nodes: 3, shards: 4)
        var isolations = 0
        var drops = 0
        for _ in 0..<200 {
            guard case .partition(let cut) = schedule.next().action else {
                Issue.record("not a partition")
                continue
            }
            switch cut {
            case .isolate:
                isolations += 1
            case .drop(_, _, let pick, let probability):
                drops += 1
                #expect((0..<2).contains(pick))
                #expect((0.5...1).contains(probability))
            }
        }
        #expect(isolations > 50 && drops > 50)
    }

    @Test func clockSkewsStayShortOfRetentionAndRunFast() {
        var schedule = FaultSchedule(seed: 8, kinds: [.clock], nodes: 3, shards: 4)
        var backwards = 0
        for _ in 0..<200 {
            guard case .clock(_, let skew) = schedule.next().action else {
                Issue.record("not a clock fault")
                continue
            }
            switch skew {
            case .jump(let millis):
                #expect((30_000...600_000).contains(abs(millis)))
                if millis < 0 { backwards += 1 }
            case .rate(let rate):
                #expect((2...5).contains(rate))
            }
        }
        #expect(backwards > 10)
    }

    @Test func diskFaultsFlipOrTruncateWithDifferentSalts() {
        var schedule = FaultSchedule(seed: 9, kinds: [.disk], nodes: 3, shards: 4)
        var salts: Set<UInt64> = []
        var damages: Set<String> = []
        for _ in 0..<50 {
            guard case .disk(_, let damage, let salt) = schedule.next().action else {
                Issue.record("not a disk fault")
                continue
            }
            salts.insert(salt)
            damages.insert("\(damage)")
        }
        #expect(salts.count == 50)
        #expect(damages == ["bitflip", "truncate"])
    }

    /// The full set of nemeses must still fit the CI floor of ten faults a minute.
    @Test func aMinuteOfEveryNemesisHoldsTenFaults() {
        for seed in UInt64(1)...20 {
            var schedule = FaultSchedule(seed: seed, kinds: NemesisKind.allCases, nodes: 3, shards: 4)
            var elapsed = Duration.zero
            var count = 0
            while true {
                let plan = schedule.next()
                var exposure = Duration.zero
                if case .powerLoss(let held) = plan.action { exposure = held }
                elapsed += plan.quietBefore + exposure + plan.downFor + .seconds(1)
                guard elapsed < .seconds(58) else { break }
                count += 1
            }
            #expect(count >= 10, "seed \(seed) fits only \(count) faults")
        }
    }

    @Test func delaysAreFiftyToTwoHundredMillisecondsWithJitter() {
        var schedule = FaultSchedule(seed: 12, kinds: [.delay], nodes: 3, shards: 4)
        var everyone = Set<Bool>()
        var jittered = false
        for _ in 0..<100 {
            guard case .delay(_, let delay) = schedule.next().action else {
                Issue.record("not a delay")
                return
            }
            #expect((50...150).contains(delay.fixedMillis) && (0...50).contains(delay.jitterMillis))
            #expect((0..<2).contains(delay.pick))
            everyone.insert(delay.toEveryone)
            jittered = jittered || delay.jitterMillis > 0
        }
        #expect(everyone == [true, false] && jittered)
    }

    @Test func networkCutsDrawEveryShape() {
        var schedule = FaultSchedule(seed: 13, kinds: [.netpartition], nodes: 3, shards: 4)
        var shapes = Set<String>()
        for _ in 0..<60 {
            guard case .netPartition(_, let cut) = schedule.next().action else {
                Issue.record("not a network cut")
                return
            }
            switch cut {
            case .linkDown: shapes.insert("down")
            case .isolateFromPeers: shapes.insert("isolate")
            case .oneWay(let pick):
                #expect((0..<2).contains(pick))
                shapes.insert("oneway")
            }
        }
        #expect(shapes == ["down", "isolate", "oneway"])
    }
}
