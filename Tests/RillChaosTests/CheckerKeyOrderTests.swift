import RillChaos
import Testing

let shard2 = "shardId-000000000002"
let shard3 = "shardId-000000000003"

extension HistoryBuilder {
    /// Writer 1's records `n` in one call: acknowledged at one instant, each in the shard `shardOf` names.
    mutating func call(_ ns: Range<Int>, shardOf: (Int) -> String) {
        let time = advance()
        for n in ns { ack(WorkloadKeys.id(process: 1, n: n), shard: shardOf(n), process: 1, at: time) }
    }

    mutating func lineage(_ shards: [LineageEvent.Shard]) {
        events.append(.lineage(LineageEvent(time: advance(), shards: shards)))
    }

    /// Final reads of every shard in `logs`, then the lineage the final read saw.
    mutating func finishWithLineage(_ shards: [LineageEvent.Shard]) {
        for shard in logs.keys.sorted() { finalRead(shard) }
        lineage(shards)
    }
}

/// Shard 0 split into 2 (keys k0–k7) and 3 (keys k8–k15).
let splitLineage: [LineageEvent.Shard] = [
    .init(shard: shard0), .init(shard: shard2, parents: [shard0]), .init(shard: shard3, parents: [shard0]),
]

func child(_ n: Int) -> String { n % WorkloadKeys.perWriter < 8 ? shard2 : shard3 }

@Suite struct CheckerKeyOrderTests {
    @Test("writer ids and keys: a key per id modulo 16, other ids keyed by themselves")
    func workloadKeys() {
        #expect(WorkloadKeys.partitionKey(ofID: "w3-17") == "w3-k1")
        #expect(WorkloadKeys.partitionKey(ofID: "w3-16") == "w3-k0")
        #expect(WorkloadKeys.writerRecord("w12-400")! == (12, 400))
        #expect(WorkloadKeys.writerRecord("c5-1") == nil)
        #expect(WorkloadKeys.writerRecord("w-1") == nil)
        #expect(WorkloadKeys.writerRecord("w1-x") == nil)
        #expect(WorkloadKeys.partitionKey(ofID: "c5-1") == "c5-1")
    }

    @Test("records in the parent, then in its children after a split: in order")
    func splitInOrder() {
        var run = HistoryBuilder()
        for start in stride(from: 0, to: 64, by: 16) { run.call(start..<start + 16) { _ in shard0 } }
        for start in stride(from: 64, to: 128, by: 16) { run.call(start..<start + 16, shardOf: child) }
        run.finishWithLineage(splitLineage)
        let verdict = run.verdict()
        #expect(verdict.keyOrder.count == 0)
        #expect(verdict.valid)
    }

    @Test("a record sent after its key reached a child, read back in the parent, is out of order")
    func parentAfterChild() throws {
        var run = HistoryBuilder()
        run.call(0..<16) { _ in shard0 }
        run.call(16..<32, shardOf: child)
        // The parent takes a record of key k0 after the child acknowledged one: a consumer reading parent then
        // child sees w1-32 before w1-16, though w1-32 was sent after w1-16 was acknowledged.
        run.call(32..<33) { _ in shard0 }
        run.finishWithLineage(splitLineage)
        let verdict = run.verdict()
        #expect(verdict.keyOrder.count == 1)
        #expect(!verdict.valid)
        let example = try #require(verdict.keyOrder.examples.first)
        #expect(example.key == "w1-k0")
        #expect(example.earlier == "w1-16")
        #expect(example.later == "w1-32")
        #expect(example.lineage == [shard0])
        #expect(verdict.summaryTable().contains("key order"))
    }

    @Test("one key in two shards neither of which descends from the other is out of order")
    func unrelatedShards() {
        var run = HistoryBuilder()
        run.call(0..<1) { _ in shard0 }
        run.call(16..<17) { _ in shard1 }
        run.finishWithLineage([.init(shard: shard0), .init(shard: shard1)])
        #expect(run.verdict().keyOrder.count == 1)
    }

    @Test("a history without a lineage event (its keys were the ids) is not held to key order")
    func historiesWithoutLineageAreNotJudged() {
        var run = HistoryBuilder()
        run.call(0..<1) { _ in shard0 }
        run.call(16..<17) { _ in shard1 }
        for shard in run.logs.keys.sorted() { run.finalRead(shard) }
        #expect(run.verdict().keyOrder.count == 0)
    }

    @Test("within one call a key's records are not ordered against each other")
    func sameCallIsConcurrent() {
        var run = HistoryBuilder()
        // One PutRecords call whose records of key k0 landed out of n order: both acknowledged together.
        let time = run.advance()
        run.ack("w1-16", shard: shard0, process: 1, at: time)
        run.ack("w1-0", shard: shard0, process: 1, at: time)
        run.call(32..<33) { _ in shard0 }
        run.finishWithLineage([.init(shard: shard0)])
        #expect(run.verdict().keyOrder.count == 0)
    }

    @Test("a record after an indeterminate one is not held to its order; after an acknowledged one it is")
    func onlyAcknowledgedRecordsOrderLaterOnes() {
        var run = HistoryBuilder()
        run.append("w1-0", to: shard2)
        run.fail("w1-0", error: "timeout", process: 1)
        run.call(16..<17) { _ in shard0 }
        run.finishWithLineage(splitLineage)
        #expect(run.verdict().keyOrder.count == 0)
    }

    @Test("a parent closed by a split is not an outage once closed; an open shard's silence still is")
    func closedParentIsNotUnavailable() throws {
        var run = HistoryBuilder()
        run.call(0..<16) { _ in shard0 }
        run.fault(FaultKind(rawValue: "reshard"), "chaos", .start)
        run.fault(FaultKind(rawValue: "reshard"), "chaos", .end)
        for start in stride(from: 16, to: 64, by: 16) {
            run.advance(1000)
            run.call(start..<start + 16, shardOf: child)
        }
        run.finishWithLineage(splitLineage)
        let window = try #require(run.verdict().availability.faults.first)
        #expect(window.longestShardGap?.recovered != false)

        // Without the lineage, shard 0 looks like a shard that stopped taking writes for good.
        var unsplit = HistoryBuilder()
        unsplit.call(0..<16) { _ in shard0 }
        unsplit.fault(FaultKind(rawValue: "reshard"), "chaos", .start)
        unsplit.fault(FaultKind(rawValue: "reshard"), "chaos", .end)
        for start in stride(from: 16, to: 64, by: 16) {
            unsplit.advance(1000)
            unsplit.call(start..<start + 16, shardOf: child)
        }
        for shard in unsplit.logs.keys.sorted() { unsplit.finalRead(shard) }
        let stalled = try #require(unsplit.verdict().availability.faults.first)
        #expect(stalled.longestShardGap?.recovered == false)
    }
}
