import RillChaos
import Testing

@Suite struct CheckerSkipTests {
    /// Six records on shard 0, final read included; `reads` adds one consumer's pages.
    private func run(_ reads: (inout HistoryBuilder, [ReadRecord]) -> Void) -> Verdict {
        var run = HistoryBuilder()
        for n in 0..<6 { run.ack("a\(n)") }
        let log = run.logs[shard0] ?? []
        reads(&run, log)
        run.finalRead(shard0)
        return run.verdict()
    }

    @Test("a page that starts past a record the previous page should have been followed by is a skip")
    func betweenPages() throws {
        let verdict = run { run, log in
            run.read([log[0], log[1]], from: "TRIM_HORIZON")
            run.read([log[3], log[4]])
        }
        #expect(violations(verdict) == ["skipped": 1])
        let example = try #require(verdict.skipped.examples.first)
        #expect(example.afterID == "a1" && example.before.id == "a3")
        #expect(example.missingCount == 1 && example.missing.map(\.id) == ["a2"])
        #expect(example.process == 100 && example.shard == shard0)
    }

    @Test("a gap inside one page is a skip too, counted once per gap")
    func withinPage() throws {
        let verdict = run { run, log in
            run.read([log[0], log[3], log[5]], from: "TRIM_HORIZON")
        }
        #expect(verdict.skipped.count == 2)
        #expect(verdict.skipped.examples.map(\.missingCount) == [2, 1])
    }

    @Test("a new iterator at a sequence number must continue right after it")
    func fromSequence() throws {
        let verdict = run { run, log in
            run.read([log[3]], from: log[0].sequence.digits)
        }
        let example = try #require(verdict.skipped.examples.first)
        #expect(verdict.skipped.count == 1 && example.afterID == nil && example.missing.map(\.id) == ["a1", "a2"])
        #expect(example.description.contains("iterator start"))
    }

    @Test("consumers that go back, restart at the horizon or jump to LATEST skip nothing")
    func noFalseSkips() {
        let verdict = run { run, log in
            run.read([log[0], log[1]], from: "TRIM_HORIZON")
            run.read([log[2]])
            run.read([log[0], log[1]], from: "TRIM_HORIZON")  // a restarted consumer
            run.read([log[3]], process: 7, from: "AT_TIMESTAMP")
            run.read([log[1], log[2]], process: 7, from: log[0].sequence.digits)  // went back
            run.read([log[5]], process: 8, from: "LATEST")
            run.read([], process: 8)
            run.read([log[0]], process: 9, from: "TRIM_HORIZON")
            run.read([log[1]], process: 9)
            run.read([log[1], log[2]], process: 9)  // a repeated page
        }
        #expect(verdict.valid, "\(verdict.summaryTable())")
    }

    @Test("each consumer and shard is checked on its own")
    func perConsumer() {
        let verdict = run { run, log in
            // Interleaved pages of two consumers: neither skipped, though their union looks gappy.
            run.read([log[0]], process: 1, from: "TRIM_HORIZON")
            run.read([log[0], log[1]], process: 2, from: "TRIM_HORIZON")
            run.read([log[1], log[2]], process: 1)
            run.read([log[2], log[3]], process: 2)
        }
        #expect(verdict.valid)
    }
}
