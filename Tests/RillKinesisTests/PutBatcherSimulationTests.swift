import RillKinesis
import RillModel
import Testing

/// `PutBatcher` against a simulated Kinesis that throttles, fails calls and fails records at random, with calls
/// answered out of order. After every run: each key's records were written in input order, at most one record
/// of a key was ever in flight, every record is accounted for: every record is written, failed or left unsent.
@Suite struct PutBatcherSimulationTests {
    @Test("random failures and reordered replies never break per-key order", arguments: 0..<200)
    func simulate(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        var settings = PutBatcher.Settings()
        settings.maxInFlightCalls = Int.random(in: 1...4, using: &random)
        settings.maxAttempts = Int.random(in: 2...6, using: &random)
        settings.maxRecordsPerCall = Int.random(in: 1...50, using: &random)
        settings.maxBuffered = Int.random(in: 5...200, using: &random)
        var batcher = PutBatcher(settings: settings)
        let keys = Int.random(in: 1...20, using: &random)
        let total = Int.random(in: 1...400, using: &random)
        let failureRate = Double.random(in: 0...0.4, using: &random)

        var now = Duration.zero
        var added = 0
        var inFlight: [PutBatcher.Call] = []
        var written: [String: [Int]] = [:]
        var wake: Duration?
        func take(_ directives: [PutBatcher.Directive]) {
            for directive in directives {
                switch directive {
                case .send(let call):
                    let keysInCall = call.entries.map(\.orderingKey)
                    #expect(Set(keysInCall).count == keysInCall.count, "seed \(seed): two records of one key in a call")
                    let busy = Set(inFlight.flatMap { $0.entries.map(\.orderingKey) })
                    #expect(busy.isDisjoint(with: keysInCall), "seed \(seed): a key in two calls at once")
                    inFlight.append(call)
                case .wake(let at): wake = min(wake ?? at, at)
                }
            }
            #expect(inFlight.count <= settings.maxInFlightCalls)
        }

        for _ in 0..<100_000 where !batcher.isFinished {
            if added < total && batcher.acceptsInput && Bool.random(using: &random) {
                let key = "k\(Int.random(in: 0..<keys, using: &random))"
                take(batcher.add(ProducerEntry(partitionKey: key, data: Array(String(added).utf8)), now: now))
                added += 1
                if added == total { take(batcher.endOfInput(now: now)) }
                continue
            }
            if !inFlight.isEmpty && Bool.random(using: &random) {
                let call = inFlight.remove(at: Int.random(in: 0..<inFlight.count, using: &random))
                if Double.random(in: 0..<1, using: &random) < failureRate / 2 {
                    let failure: PutBatcher.CallFailure =
                        Bool.random(using: &random)
                        ? .transport("reset") : .error(code: "ProvisionedThroughputExceededException", message: "")
                    take(batcher.callFailed(id: call.id, failure: failure, now: now, random: &random))
                } else {
                    let outcomes: [PutBatcher.RecordOutcome] = call.entries.map { _ in
                        Double.random(in: 0..<1, using: &random) < failureRate
                            ? .failed(code: "ProvisionedThroughputExceededException", message: "") : .written
                    }
                    for (entry, outcome) in zip(call.entries, outcomes) where outcome == .written {
                        written[entry.orderingKey, default: []].append(
                            Int(String(decoding: entry.data, as: UTF8.self)) ?? -1
                        )
                    }
                    take(batcher.callSucceeded(id: call.id, outcomes: outcomes, now: now, random: &random))
                }
                continue
            }
            now = max(now + .milliseconds(1), wake ?? now)
            wake = nil
            take(batcher.tick(now: now))
            if added == total && inFlight.isEmpty && wake == nil && !batcher.isFinished {
                Issue.record("seed \(seed): stuck with \(batcher.buffered) records and nothing to wait for")
                return
            }
        }
        #expect(batcher.isFinished, "seed \(seed): not finished")
        let summary = batcher.summary
        #expect(summary.written + summary.failed + summary.unsent == total, "seed \(seed): \(summary) for \(total)")
        for (key, numbers) in written {
            #expect(numbers == numbers.sorted(), "seed \(seed): key \(key) written out of order: \(numbers)")
            #expect(Set(numbers).count == numbers.count, "seed \(seed): key \(key) written twice")
        }
    }
}
