import Foundation
import RillChaos
import Testing

@Suite struct CheckerScaleTests {
    /// 100,000 writes over 4 shards from 16 workers, 1% indeterminate (half of them landed) and 0.5% throttled,
    /// one consumer per shard reading pages of 100 as the log grows, a kill every 10,000 writes, final reads
    /// and three replicas' checksums: the size of a long chaos run.
    static func largeHistory(writes: Int = 100_000) -> [HistoryEvent] {
        var generator = SplitMix(seed: 7)
        let shards = (0..<4).map { "shardId-00000000000\($0)" }
        var logs = Array(repeating: [ReadRecord](), count: shards.count)
        var consumed = Array(repeating: 0, count: shards.count)
        var events: [HistoryEvent] = []
        events.reserveCapacity(writes + writes / 50)
        var time = 0.0
        for n in 0..<writes {
            time += 0.25
            let shard = Int(generator.next() % 4)
            let process = n % 16
            let id = "w\(process)-\(n)"
            let roll = generator.next() % 1000
            if n % 10_000 == 5_000 {
                events.append(.fault(FaultEvent(time: time, kind: .kill, target: "node-\(n % 3 + 1)", phase: .start)))
            } else if n % 10_000 == 6_000 {
                events.append(.fault(FaultEvent(time: time, kind: .kill, target: "node-\(n % 3 + 1)", phase: .end)))
            }
            if roll < 5 {
                events.append(
                    .write(
                        .failed(time: time, process: process, id: id, error: "ProvisionedThroughputExceededException")
                    )
                )
                continue
            }
            let record = ReadRecord(id: id, sequence: sequence(n + 1))
            if roll < 15 {
                if roll < 10 { logs[shard].append(record) }
                events.append(.write(.failed(time: time, process: process, id: id, error: "InternalFailureException")))
            } else {
                logs[shard].append(record)
                events.append(
                    .write(
                        .acknowledged(
                            time: time,
                            process: process,
                            id: id,
                            shard: shards[shard],
                            sequence: record.sequence
                        )
                    )
                )
            }
            if logs[shard].count - consumed[shard] >= 100 {
                let page = Array(logs[shard][consumed[shard]...])
                events.append(
                    .read(
                        ReadEvent(
                            time: time,
                            process: 100 + shard,
                            shard: shards[shard],
                            isFinal: false,
                            records: page,
                            from: consumed[shard] == 0 ? "TRIM_HORIZON" : nil
                        )
                    )
                )
                consumed[shard] = logs[shard].count
            }
        }
        for (shard, log) in logs.enumerated() {
            time += 1
            events.append(.read(ReadEvent(time: time, process: 999, shard: shards[shard], isFinal: true, records: log)))
        }
        for node in 1...3 {
            let checksums = shards.indices.map {
                ShardChecksum(
                    shard: shards[$0],
                    applied: UInt64(logs[$0].count),
                    sha256: "h\($0)",
                    records: logs[$0].count
                )
            }
            events.append(
                .checksums(ChecksumsEvent(time: time + Double(node), node: "node-\(node)", shards: checksums))
            )
        }
        return events
    }

    @Test("a 100,000-write history is checked in well under a few seconds")
    func largeHistoryIsFast() {
        let events = Self.largeHistory()
        let clock = ContinuousClock()
        var verdict: Verdict?
        let elapsed = clock.measure { verdict = Checker().check(events) }
        print("checked \(events.count) events in \(elapsed)")
        guard let verdict else { return }
        #expect(verdict.valid, "\(verdict.summaryTable())")
        #expect(verdict.writes.acknowledged + verdict.writes.failed + verdict.writes.indeterminate == 100_000)
        #expect(verdict.writes.indeterminateWritten > 0 && verdict.writes.indeterminateNotWritten > 0)
        #expect(verdict.faults == [.kill: 10])
        // Generous: release takes a fraction of a second; this only catches an accidental quadratic.
        #expect(elapsed < .seconds(20))
    }

    @Test("a large history survives the file format, and a lost write in it is still found")
    func largeHistoryRoundTrip() throws {
        var events = Self.largeHistory(writes: 20_000)
        // Drop one acknowledged record from its final read.
        let finalIndex = try #require(
            events.firstIndex { if case .read(let read) = $0 { read.isFinal } else { false } }
        )
        guard case .read(var final) = events[finalIndex] else { return }
        let dropped = final.records.remove(at: final.records.count / 2)
        events[finalIndex] = .read(final)
        let clock = ContinuousClock()
        var decoded: History?
        let elapsed = try clock.measure { decoded = try History(jsonLines: History(events: events).jsonLines()) }
        print("encoded and decoded \(events.count) events in \(elapsed)")
        let history = try #require(decoded)
        #expect(history.events == events)
        let verdict = Checker().check(history)
        #expect(violations(verdict) == ["lost": 1] || violations(verdict) == ["vanished": 1])
        #expect(verdict.lost.examples.first?.id == dropped.id || verdict.vanished.examples.first?.id == dropped.id)
    }
}
