import RillChaos
import Testing

extension HistoryBuilder {
    /// One attempt of a retrying writer (process 1) at record `n`: stored at a new position of `shard` when
    /// `storedAt` says so, answered `outcome` (an acknowledgement names `acknowledgedAt`, or where it was
    /// just stored). `producer` stamps it as an idempotent producer's record number `n`.
    @discardableResult
    mutating func attempt(
        _ n: Int,
        _ number: Int,
        outcome: WriteOutcome,
        storedAt shard: String? = nil,
        acknowledgedAt: ReadRecord? = nil,
        error: String? = nil,
        producer: String? = "chaos.w1"
    ) -> ReadRecord? {
        let id = WorkloadKeys.id(process: 1, n: n)
        let stored = shard.map { append(id, to: $0) }
        let position = acknowledgedAt ?? stored
        var write = WriteEvent(
            time: advance(),
            process: 1,
            id: id,
            outcome: outcome,
            shard: outcome == .ok ? shard0 : nil,
            sequence: outcome == .ok ? position?.sequence : nil,
            error: outcome == .ok ? nil : error ?? "timeout",
            attempt: number
        )
        if let producer {
            write.producer = producer
            write.producerSequence = UInt64(n)
        }
        events.append(.write(write))
        return stored
    }
}

@Suite struct CheckerRetryTests {
    @Test("an idempotent producer's retry stored a second time is a duplicate, named with its producer")
    func idempotentDuplicate() throws {
        var run = HistoryBuilder()
        let first = run.attempt(0, 1, outcome: .info, storedAt: shard0)
        let second = run.attempt(0, 2, outcome: .ok, storedAt: shard0)
        run.finalRead(shard0)
        let verdict = run.verdict()
        #expect(!verdict.valid)
        #expect(verdict.duplicated.count == 1)
        let example = try #require(verdict.duplicated.examples.first)
        #expect(example.id == "w1-0")
        #expect(example.positions.map(\.sequence) == [first?.sequence, second?.sequence].compactMap { $0 })
        #expect(example.producer == "chaos.w1" && example.producerSequence == 0 && example.attempts == 2)
        #expect(example.description.contains("producer chaos.w1 #0"))
        #expect(verdict.writes.storedMoreThanOnce == 1 && verdict.writes.expectedDuplicates == 0)
    }

    @Test("a retry answered with the first attempt's sequence number is one record, acknowledged")
    func retryAnsweredWithFirstSequence() {
        var run = HistoryBuilder()
        let stored = run.attempt(0, 1, outcome: .info, storedAt: shard0)
        run.attempt(0, 2, outcome: .info, error: "connection")
        run.attempt(0, 3, outcome: .ok, acknowledgedAt: stored)
        run.attempt(1, 1, outcome: .ok, storedAt: shard0)
        run.consume(shard0)
        run.finalRead(shard0)
        let verdict = run.verdict()
        #expect(verdict.valid, "\(verdict.summaryTable())")
        #expect(violations(verdict).isEmpty)
        #expect(verdict.notes.isEmpty)
        #expect(verdict.writes.acknowledged == 2 && verdict.writes.indeterminate == 0)
        #expect(verdict.writes.retried == 1 && verdict.writes.retries == 2)
        #expect(verdict.writes.storedMoreThanOnce == 0)
    }

    @Test("an unacknowledged write that was stored is fine, however its later attempts ended")
    func unacknowledgedButStored() {
        var run = HistoryBuilder()
        run.attempt(0, 1, outcome: .info, storedAt: shard0)
        // Throttled at the retry: that attempt stored nothing, but says nothing about the first.
        run.attempt(0, 2, outcome: .fail, error: "ProvisionedThroughputExceededException")
        run.attempt(0, 3, outcome: .info)
        run.consume(shard0)
        run.finalRead(shard0)
        let verdict = run.verdict()
        #expect(verdict.valid, "\(verdict.summaryTable())")
        #expect(verdict.writes.indeterminate == 1 && verdict.writes.indeterminateWritten == 1)
        #expect(verdict.writes.failed == 0)
    }

    @Test("a record refused at every attempt is a definite failure, and reading it is an anomaly")
    func refusedAtEveryAttempt() {
        var run = HistoryBuilder()
        run.attempt(0, 1, outcome: .fail, storedAt: shard0, error: "ProvisionedThroughputExceededException")
        run.attempt(0, 2, outcome: .fail, error: "ProvisionedThroughputExceededException")
        run.finalRead(shard0)
        let verdict = run.verdict()
        #expect(verdict.writes.failed == 1)
        #expect(violations(verdict) == ["failedWritesRead": 1])
    }

    @Test("a record acknowledged at a retry and missing from the final read is lost")
    func acknowledgedAtRetryThenLost() {
        var run = HistoryBuilder()
        run.attempt(0, 1, outcome: .info)
        let stored = run.attempt(0, 2, outcome: .ok, storedAt: shard0)
        run.attempt(1, 1, outcome: .ok, storedAt: shard0)
        run.finalRead(shard0, records: (run.logs[shard0] ?? []).filter { $0 != stored })
        let verdict = run.verdict()
        #expect(violations(verdict) == ["lost": 1])
        #expect(verdict.lost.examples.first?.id == "w1-0")
    }

    @Test("a plain writer's retry stored twice is Kinesis's at-least-once: counted, not an anomaly")
    func plainRetryDuplicateIsExpected() {
        var run = HistoryBuilder()
        run.attempt(0, 1, outcome: .info, storedAt: shard0, producer: nil)
        run.attempt(0, 2, outcome: .ok, storedAt: shard0, producer: nil)
        run.attempt(1, 1, outcome: .ok, storedAt: shard0, producer: nil)
        run.consume(shard0)
        run.finalRead(shard0)
        let verdict = run.verdict()
        #expect(verdict.valid, "\(verdict.summaryTable())")
        #expect(verdict.writes.storedMoreThanOnce == 1 && verdict.writes.expectedDuplicates == 1)
        #expect(verdict.summaryTable().contains("plain retries (expected)"))
    }

    @Test("more copies than a plain writer sent, or copies of a record sent once, are still duplicates")
    func plainCopiesBeyondAttempts() {
        var run = HistoryBuilder()
        run.attempt(0, 1, outcome: .info, storedAt: shard0, producer: nil)
        run.attempt(0, 2, outcome: .ok, storedAt: shard0, producer: nil)
        run.append("w1-0", to: shard0)
        run.ack("w1-1", process: 1)
        run.append("w1-1", to: shard0)
        run.finalRead(shard0)
        let verdict = run.verdict()
        #expect(verdict.duplicated.count == 2)
        #expect(verdict.writes.storedMoreThanOnce == 2 && verdict.writes.expectedDuplicates == 0)
    }

    @Test("a retried record belongs to the call that first sent it, for per-key order")
    func keyOrderUsesFirstAttempt() {
        // Records 0 and 16 share a key and one call; 0 failed in it and was stored on retry after 16. Kinesis
        // orders a key only after an acknowledgement, so this is not a violation.
        var run = HistoryBuilder()
        let time = run.advance()
        run.events.append(
            .write(WriteEvent(time: time, process: 1, id: "w1-0", outcome: .info, error: "InternalFailure", attempt: 1))
        )
        let sixteen = run.append("w1-16", to: shard0)
        run.events.append(
            .write(.acknowledged(time: time, process: 1, id: "w1-16", shard: shard0, sequence: sixteen.sequence))
        )
        run.attempt(0, 2, outcome: .ok, storedAt: shard0, producer: nil)
        run.finishWithLineage([.init(shard: shard0)])
        let verdict = run.verdict()
        #expect(verdict.valid, "\(verdict.summaryTable())")
    }
}
