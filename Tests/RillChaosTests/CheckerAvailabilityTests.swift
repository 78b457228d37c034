import RillChaos
import Testing

@Suite struct CheckerAvailabilityTests {
    /// Acknowledgements at fixed times around a kill from 100 to 300 ms, then a partition that never heals.
    private func run() -> Verdict {
        var run = HistoryBuilder()
        for time in [10.0, 20, 30] { run.ack("a\(Int(time))", shard: shard0, at: time) }
        for time in [15.0, 25, 35] { run.ack("b\(Int(time))", shard: shard1, at: time) }
        run.fault(.kill, "node-2", .start, at: 100)
        run.ack("b200", shard: shard1, at: 200)
        run.fault(.kill, "node-2", .end, at: 300)
        run.ack("a400", shard: shard0, at: 400)
        run.ack("a410", shard: shard0, at: 410)
        run.ack("b420", shard: shard1, at: 420)
        run.fault(.partition, "node-1|node-2,node-3", .start, at: 500)
        run.fail("late", error: "timeout", at: 600)  // still trying, not getting through
        run.finalRead(shard0)
        run.finalRead(shard1)
        return run.verdict()
    }

    @Test("the longest gap between acknowledgements, overall and per shard")
    func gaps() throws {
        let availability = run().availability
        let overall = try #require(availability.longestGap)
        #expect(overall.start == 200 && overall.end == 400 && overall.milliseconds == 200 && overall.shard == nil)
        #expect(availability.shards.map(\.shard) == [shard0, shard1])
        #expect(availability.shards.map(\.acknowledged) == [5, 5])
        #expect(availability.shards[0].longestGap?.milliseconds == 370)
        #expect(availability.shards[1].longestGap?.milliseconds == 220)
    }

    @Test("each fault window gets the longest gap overlapping it, and the worst single shard's")
    func faultWindows() throws {
        let verdict = run()
        #expect(verdict.faults == [.kill: 1, .partition: 1])
        let kill = try #require(verdict.availability.faults.first)
        #expect(kill.kind == .kill && kill.start == 100 && kill.end == 300)
        #expect(kill.longestGap?.milliseconds == 200)
        #expect(kill.longestShardGap?.shard == shard0 && kill.longestShardGap?.milliseconds == 370)
    }

    @Test("a fault that never ends, with writes still failing, shows an unrecovered gap")
    func unrecovered() throws {
        let partition = try #require(run().availability.faults.last)
        #expect(partition.kind == .partition && partition.end == nil)
        let gap = try #require(partition.longestGap)
        #expect(gap.start == 420 && gap.end == 600 && !gap.recovered)
    }

    @Test("a history without acknowledgements has no gaps and still reports its faults")
    func empty() {
        var run = HistoryBuilder()
        run.fault(.pause, "node-3", .start)
        run.fault(.pause, "node-3", .end)
        run.fault(.clock, "node-1", .end)
        let verdict = run.verdict()
        #expect(verdict.valid && verdict.availability.longestGap == nil)
        #expect(verdict.availability.faults.count == 1 && verdict.availability.faults[0].longestGap == nil)
        #expect(verdict.faults == [.pause: 1])
        #expect(verdict.notes == ["1 fault end events had no matching start"])
    }
}
