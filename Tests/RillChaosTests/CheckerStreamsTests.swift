import RillChaos
import Testing

/// Records of the catalog churn's streams, whose shard ids repeat those of the stream under test, and
/// replica checksums that carry each replica's voters.
@Suite struct CheckerStreamsTests {
    /// A write to `stream` acknowledged at `shard`/`n`, and, unless `readBack` is false, its final read.
    private func churnWrite(
        _ id: String,
        stream: String,
        shard: String,
        _ n: Int,
        at time: Double,
        readBack: Bool = true
    ) -> [HistoryEvent] {
        var events: [HistoryEvent] = [
            .write(
                WriteEvent(
                    time: time,
                    process: 50,
                    id: id,
                    outcome: .ok,
                    shard: shard,
                    sequence: sequence(n),
                    stream: stream
                )
            )
        ]
        if readBack {
            events.append(
                .read(
                    ReadEvent(
                        time: time + 1,
                        process: 0,
                        shard: shard,
                        isFinal: true,
                        records: [ReadRecord(id: id, sequence: sequence(n))],
                        stream: stream
                    )
                )
            )
        }
        return events
    }

    @Test("equal shard ids and sequence numbers in two streams are two positions, not a conflict")
    func sameShardIDInTwoStreams() {
        var run = HistoryBuilder()
        let record = run.ack("main-1", shard: shard0)
        run.finalRead(shard0)
        let churn = churnWrite("c1-0", stream: "churn-1", shard: shard0, 10, at: 50)
        #expect(record.sequence == sequence(10))
        let verdict = Checker().check(run.events + churn)
        #expect(verdict.valid)
        #expect(verdict.writes.acknowledged == 2)
    }

    @Test("an acknowledged churn record missing from its stream's final read is lost, named by stream")
    func churnRecordLost() throws {
        var run = HistoryBuilder()
        run.ack("main-1", shard: shard0)
        run.finalRead(shard0)
        let events =
            run.events + churnWrite("c1-0", stream: "churn-1", shard: shard1, 10, at: 50, readBack: false)
            + [.read(ReadEvent(time: 60, process: 0, shard: shard1, isFinal: true, records: [], stream: "churn-1"))]
        let verdict = Checker().check(events)
        #expect(violations(verdict) == ["lost": 1])
        let lost = try #require(verdict.lost.examples.first)
        #expect(lost.acknowledged.shard == "churn-1/\(shard1)")
        // Read back from the stream under test's shard of the same id instead, it was read, but not where it
        // was acknowledged.
        let misplacedRead =
            run.events + churnWrite("c1-0", stream: "churn-1", shard: shard1, 10, at: 50, readBack: false)
            + [
                .read(
                    ReadEvent(
                        time: 60,
                        process: 0,
                        shard: shard1,
                        isFinal: true,
                        records: [ReadRecord(id: "c1-0", sequence: sequence(10))]
                    )
                )
            ]
        #expect(violations(Checker().check(misplacedRead)) == ["acknowledgementMismatches": 1])
    }

    @Test("churn writes do not count in availability: its gaps are the stream under test's")
    func availabilityIgnoresChurn() {
        var run = HistoryBuilder()
        run.ack("a", shard: shard0, at: 100)
        run.ack("b", shard: shard0, at: 200)
        run.finalRead(shard0)
        let verdict = Checker().check(
            run.events + churnWrite("c1-0", stream: "churn-1", shard: shard0, 99, at: 5000)
        )
        #expect(verdict.availability.shards.map(\.shard) == [shard0])
        #expect(verdict.availability.longestGap?.milliseconds == 100)
    }

    @Test("a divergence lists each replica's voters")
    func divergenceWithVoters() throws {
        var run = HistoryBuilder()
        run.checksums(
            "node-1",
            [ShardChecksum(shard: shard0, applied: 7, sha256: "aa", records: 3, voters: [1, 2, 3])]
        )
        run.checksums("node-2", [ShardChecksum(shard: shard0, applied: 7, sha256: "bb", records: 3, voters: [2])])
        let verdict = run.verdict()
        let divergence = try #require(verdict.divergence.examples.first)
        #expect(divergence.replicas.map(\.voters) == [[1, 2, 3], [2]])
        #expect(
            divergence.description
                == "\(shard0) at applied 7: node-1 aa (3 records, voters 1,2,3), node-2 bb (3 records, voters 2)"
        )
    }

    @Test("stream, voters and placement events survive a round trip through JSON lines")
    func roundTrip() throws {
        let history = History(
            events: churnWrite("c1-0", stream: "churn-1", shard: shard0, 10, at: 1) + [
                .checksums(
                    ChecksumsEvent(
                        time: 2,
                        node: "node-1",
                        shards: [ShardChecksum(shard: shard0, applied: 1, sha256: "aa", records: 1, voters: [1, 2, 3])]
                    )
                ),
                .placement(
                    PlacementEvent(
                        time: 3,
                        node: "node-1",
                        id: 1,
                        zone: "az-a",
                        members: [PlacementMember(id: 1, zone: "az-a")],
                        groups: [PlacementGroup(stream: "s", streamID: "i", shard: shard0, voters: [1])],
                        violations: [PlacementViolation(stream: "s", shard: shard0, problem: "p")]
                    )
                ),
            ]
        )
        let lines = try history.jsonLines()
        #expect(try History(jsonLines: lines) == history)
        let text = String(decoding: lines, as: UTF8.self)
        #expect(text.contains(#""stream":"churn-1""#) && text.contains(#""type":"placement""#))
    }
}
