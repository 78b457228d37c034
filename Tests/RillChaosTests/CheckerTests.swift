import RillChaos
import Testing

/// A clean run: two shards, a kill and a partition, indeterminate writes that did and did not land, a throttled
/// write, and a follower that has not caught up. `finish` adds consumers, final reads and checksums, so a test
/// can break the server's logs in between.
func cleanRun() -> HistoryBuilder {
    var run = HistoryBuilder()
    for n in 0..<6 {
        run.ack("a\(n)", shard: shard0, process: 1)
        run.ack("b\(n)", shard: shard1, process: 2)
    }
    run.fault(.kill, "node-2", .start)
    run.fail("maybe-landed", error: "InternalFailureException", appendedTo: shard0, process: 1)
    run.fail("maybe-not", error: "timeout", process: 2)
    run.fail("throttled", error: "ProvisionedThroughputExceededException", process: 1)
    for n in 6..<10 {
        run.ack("a\(n)", shard: shard0, process: 1)
        run.ack("b\(n)", shard: shard1, process: 2)
    }
    run.fault(.kill, "node-2", .end)
    run.fault(.partition, "node-1|node-2,node-3", .start)
    run.ack("a10", shard: shard0, process: 1)
    run.fault(.partition, "node-1|node-2,node-3", .end)
    return run
}

extension HistoryBuilder {
    mutating func finish(consume: Bool = true) {
        if consume {
            self.consume(shard0, process: 100)
            self.consume(shard1, process: 101, pageSize: 3)
        }
        finalRead(shard0)
        finalRead(shard1)
        checksums(
            "node-1",
            [
                ShardChecksum(shard: shard0, applied: 40, sha256: "aa", records: 12),
                ShardChecksum(shard: shard1, applied: 33, sha256: "bb", records: 10),
            ]
        )
        checksums(
            "node-2",
            [
                ShardChecksum(shard: shard0, applied: 37, sha256: "a7", records: 11),  // still catching up
                ShardChecksum(shard: shard1, applied: 33, sha256: "bb", records: 10),
            ]
        )
        checksums(
            "node-3",
            [
                ShardChecksum(shard: shard0, applied: 40, sha256: "aa", records: 12),
                ShardChecksum(shard: shard1, applied: 33, sha256: "bb", records: 10),
            ]
        )
    }

    func verdict(exampleLimit: Int = 10) -> Verdict {
        Checker(exampleLimit: exampleLimit).check(events)
    }
}

/// The safety findings that are not zero, by name.
func violations(_ verdict: Verdict) -> [String: Int] {
    let counts = [
        "lost": verdict.lost.count, "vanished": verdict.vanished.count, "duplicated": verdict.duplicated.count,
        "reordered": verdict.reordered.count, "keyOrder": verdict.keyOrder.count,
        "sequenceConflicts": verdict.sequenceConflicts.count,
        "acknowledgementMismatches": verdict.acknowledgementMismatches.count, "skipped": verdict.skipped.count,
        "failedWritesRead": verdict.failedWritesRead.count, "divergence": verdict.divergence.count,
        "misplaced": verdict.misplaced.count,
    ]
    return counts.filter { $0.value > 0 }
}

@Suite struct CheckerTests {
    @Test("a clean run with faults, indeterminate writes and a lagging replica is valid")
    func cleanRunPasses() {
        var run = cleanRun()
        run.finish()
        let verdict = run.verdict()
        #expect(verdict.valid)
        #expect(violations(verdict).isEmpty)
        #expect(verdict.writes.acknowledged == 21)
        #expect(verdict.writes.failed == 1)
        #expect(verdict.writes.indeterminate == 2)
        #expect(verdict.writes.indeterminateWritten == 1)
        #expect(verdict.writes.indeterminateNotWritten == 1)
        #expect(
            verdict.writes.errors == [
                "InternalFailureException": 1, "timeout": 1, "ProvisionedThroughputExceededException": 1,
            ]
        )
        #expect(verdict.faults == [.kill: 1, .partition: 1])
        #expect(verdict.lagging.count == 1)
        #expect(verdict.lagging.examples.first?.shard == shard0)
        #expect(verdict.unexpected.count == 0)
        #expect(verdict.notes.isEmpty)
        #expect(verdict.summaryTable().contains("verdict: VALID"))
    }

    @Test("an acknowledged write missing from the final read is lost, even if a consumer saw it first")
    func lost() throws {
        var run = cleanRun()
        run.consume(shard0, process: 100)
        run.logs[shard0]?.removeAll { $0.id == "a3" }
        run.finish(consume: false)
        let verdict = run.verdict()
        #expect(!verdict.valid)
        #expect(violations(verdict) == ["lost": 1])
        let example = try #require(verdict.lost.examples.first)
        #expect(example.id == "a3" && example.wasRead && example.acknowledged.shard == shard0)
    }

    @Test("an indeterminate write that a consumer read must not disappear later")
    func vanished() {
        var run = cleanRun()
        run.consume(shard0, process: 100)
        run.logs[shard0]?.removeAll { $0.id == "maybe-landed" }
        run.finish(consume: false)
        let verdict = run.verdict()
        #expect(violations(verdict) == ["vanished": 1])
        #expect(verdict.vanished.examples.first?.id == "maybe-landed")
    }

    @Test("a record the server appended twice is a duplicate, not a conflict")
    func duplicated() {
        var run = cleanRun()
        run.append("a2", to: shard0)
        run.finish()
        let verdict = run.verdict()
        #expect(violations(verdict) == ["duplicated": 1])
        #expect(verdict.duplicated.examples.first?.id == "a2")
        #expect(verdict.duplicated.examples.first?.positions.count == 2)
    }

    @Test("a final read whose sequence numbers go down is reordered")
    func reordered() throws {
        var run = cleanRun()
        var log = try #require(run.logs[shard1])
        log.swapAt(4, 5)
        run.consume(shard0, process: 100)
        run.finalRead(shard0)
        run.finalRead(shard1, records: log)
        let verdict = run.verdict()
        #expect(violations(verdict) == ["reordered": 1])
        let example = try #require(verdict.reordered.examples.first)
        #expect(example.shard == shard1 && example.offset == 5 && example.first.id == "b5" && example.second.id == "b4")
    }

    @Test("one id read at two sequence numbers is a conflict")
    func idAtTwoPositions() throws {
        var run = cleanRun()
        run.finish()
        run.read([ReadRecord(id: "a1", sequence: sequence(5))], process: 200)
        let verdict = run.verdict()
        #expect(violations(verdict) == ["sequenceConflicts": 1])
        guard case .idAtSeveralPositions(let id, let positions) = try #require(verdict.sequenceConflicts.examples.first)
        else {
            Issue.record("expected an id conflict, got \(verdict.sequenceConflicts.examples)")
            return
        }
        #expect(id == "a1" && positions.count == 2)
    }

    @Test("two ids at one position is a conflict, and the stranger is noted as unexpected")
    func twoIDsAtOnePosition() throws {
        var run = cleanRun()
        run.finish()
        let a1 = try #require(run.logs[shard0]?.first { $0.id == "a1" })
        run.read([ReadRecord(id: "ghost", sequence: a1.sequence)], process: 201)
        let verdict = run.verdict()
        #expect(violations(verdict) == ["sequenceConflicts": 1])
        #expect(verdict.unexpected.count == 1 && verdict.unexpected.examples.first?.id == "ghost")
        guard
            case .severalIDsAtOnePosition(let position, let ids) = try #require(
                verdict.sequenceConflicts.examples.first
            )
        else {
            Issue.record("expected a position conflict, got \(verdict.sequenceConflicts.examples)")
            return
        }
        #expect(position == RecordPosition(shard: shard0, sequence: a1.sequence) && ids == ["a1", "ghost"])
    }

    @Test("two acknowledgements of one position conflict")
    func twoAcknowledgementsAtOnePosition() throws {
        var run = cleanRun()
        let a1 = try #require(run.logs[shard0]?.first { $0.id == "a1" })
        run.events.append(.write(.acknowledged(time: 500, process: 3, id: "c1", shard: shard0, sequence: a1.sequence)))
        run.finish()
        let verdict = run.verdict()
        #expect(violations(verdict) == ["sequenceConflicts": 1, "lost": 1])
    }

    @Test("an acknowledgement that names a different place than the reads is a mismatch")
    func acknowledgementMismatch() {
        var run = cleanRun()
        run.append("m", to: shard1)
        run.events.append(
            .write(.acknowledged(time: run.advance(), process: 2, id: "m", shard: shard1, sequence: sequence(7)))
        )
        run.finish()
        let verdict = run.verdict()
        #expect(violations(verdict) == ["acknowledgementMismatches": 1])
        #expect(verdict.acknowledgementMismatches.examples.first?.acknowledged.sequence == sequence(7))
    }

    @Test("an acknowledgement naming the wrong shard is a mismatch, not a loss")
    func wrongShard() throws {
        var run = cleanRun()
        let record = run.append("w", to: shard1)
        run.events.append(
            .write(.acknowledged(time: run.advance(), process: 2, id: "w", shard: shard0, sequence: record.sequence))
        )
        run.finish()
        #expect(violations(run.verdict()) == ["acknowledgementMismatches": 1])
    }

    @Test("a definitely failed write that shows up in a read is a violation")
    func failedWriteRead() throws {
        var run = cleanRun()
        run.fail("refused", error: "ValidationException", appendedTo: shard1, process: 2)
        run.finish()
        let verdict = run.verdict()
        #expect(violations(verdict) == ["failedWritesRead": 1])
        let example = try #require(verdict.failedWritesRead.examples.first)
        #expect(example.id == "refused" && example.error == "ValidationException")
    }

    @Test("replicas that applied as much but hash differently diverge; different applied is only lag")
    func divergence() throws {
        var run = cleanRun()
        run.finish()
        run.checksums("node-3", [ShardChecksum(shard: shard1, applied: 33, sha256: "bc", records: 10)])
        let verdict = run.verdict()
        #expect(violations(verdict) == ["divergence": 1])
        let example = try #require(verdict.divergence.examples.first)
        #expect(example.shard == shard1 && example.applied == 33)
        #expect(example.replicas.map(\.node) == ["node-1", "node-2", "node-3"])
        #expect(verdict.lagging.count == 1, "node-3's shard0 entry is gone, node-2 still lags")
    }

    @Test("equal hashes with different record counts at one applied index also diverge")
    func divergentCounts() {
        var run = cleanRun()
        run.finish()
        run.checksums("node-3", [ShardChecksum(shard: shard1, applied: 33, sha256: "bb", records: 9)])
        #expect(violations(run.verdict()) == ["divergence": 1])
    }

    @Test("examples stop at the limit while the count goes on")
    func exampleLimit() {
        var run = HistoryBuilder()
        for n in 0..<25 { run.ack("x\(n)") }
        run.finalRead(shard0, records: [])
        #expect(run.verdict().lost.count == 25)
        #expect(run.verdict().lost.examples.map(\.id) == (0..<10).map { "x\($0)" })
        #expect(run.verdict(exampleLimit: 3).lost.examples.count == 3)
    }

    @Test("a shard with acknowledged writes but no final read is noted, and its writes count as lost")
    func missingFinalRead() {
        var run = cleanRun()
        run.finalRead(shard0)
        let verdict = run.verdict()
        #expect(verdict.notes == ["no final read of \(shard1): its acknowledged writes count as lost"])
        #expect(verdict.lost.count == 10)
    }

    @Test("write events reusing an id are noted, and only the first counts")
    func reusedID() {
        var run = cleanRun()
        run.fail("a1", error: "ValidationException")
        run.finish()
        let verdict = run.verdict()
        #expect(verdict.valid)
        #expect(verdict.notes == ["1 write events reuse an earlier id and were ignored"])
    }
}
