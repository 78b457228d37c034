import RillKinesis
import RillModel
import Testing

/// `PutBatcher` driven by hand: events in, directives out, time and randomness supplied by the test.
@Suite struct PutBatcherTests {
    static func entry(_ key: String, _ text: String = "x") -> ProducerEntry {
        ProducerEntry(partitionKey: key, data: Array(text.utf8))
    }

    static func calls(_ directives: [PutBatcher.Directive]) -> [PutBatcher.Call] {
        directives.compactMap { if case .send(let call) = $0 { call } else { nil } }
    }

    static func settings(
        linger: Duration = .milliseconds(50),
        inFlight: Int = 4,
        attempts: Int = 5
    ) -> PutBatcher.Settings {
        var settings = PutBatcher.Settings()
        settings.linger = linger
        settings.maxInFlightCalls = inFlight
        settings.maxAttempts = attempts
        return settings
    }

    @Test("a record lingers, then goes when its linger is up; a wake is asked for that instant")
    func linger() {
        var batcher = PutBatcher(settings: Self.settings())
        let first = batcher.add(Self.entry("a"), now: .zero)
        #expect(first == [.wake(at: .milliseconds(50))])
        #expect(Self.calls(batcher.tick(now: .milliseconds(49))).isEmpty)
        let calls = Self.calls(batcher.tick(now: .milliseconds(50)))
        #expect(calls.map(\.entries.count) == [1])
    }

    @Test("500 records with distinct keys fill a call at once; the 501st waits")
    func countLimit() {
        var batcher = PutBatcher(settings: Self.settings(inFlight: 1))
        var calls: [PutBatcher.Call] = []
        for index in 0..<501 { calls += Self.calls(batcher.add(Self.entry("k\(index)"), now: .zero)) }
        #expect(calls.map(\.entries.count) == [500])
        #expect(batcher.buffered == 501)
    }

    @Test("while every call slot is busy, adding a record only asks for a wake; the reply starts the next call")
    func busySlots() {
        var random = SplitMix64(seed: 10)
        var batcher = PutBatcher(settings: Self.settings(inFlight: 1))
        var calls: [PutBatcher.Call] = []
        for index in 0..<500 { calls += Self.calls(batcher.add(Self.entry("k\(index)"), now: .zero)) }
        #expect(calls.count == 1)
        for index in 500..<1100 {
            let directives = batcher.add(Self.entry("k\(index)"), now: .milliseconds(1))
            #expect(directives == [.wake(at: .milliseconds(51))])
        }
        let next = Self.calls(
            batcher.callSucceeded(
                id: calls[0].id,
                outcomes: calls[0].entries.map { _ in .written },
                now: .milliseconds(2),
                random: &random
            )
        )
        #expect(next.map(\.entries.count) == [500])
        #expect(next[0].entries.first?.partitionKey == "k500")
    }

    @Test("a call stays under 5 MiB")
    func byteLimit() {
        var batcher = PutBatcher(settings: Self.settings(inFlight: 2))
        let big = String(repeating: "x", count: 1 << 20 - 2)  // 1 MiB with its two-byte key
        var calls: [PutBatcher.Call] = []
        for index in 0..<6 { calls += Self.calls(batcher.add(Self.entry("k\(index)", big), now: .zero)) }
        #expect(calls.map(\.entries.count) == [5])
        #expect(calls.allSatisfy { $0.entries.reduce(0) { $0 + $1.sizeBytes } <= 5 << 20 })
    }

    @Test(
        "producer sequences: new records number on; an unknown outcome keeps its number, a throttled record takes a new one"
    )
    func producerSequences() {
        var random = SplitMix64(seed: 1)
        var batcher = PutBatcher(settings: Self.settings())
        for key in ["a", "b", "c"] { _ = batcher.add(Self.entry(key), now: .zero) }
        let first = Self.calls(batcher.endOfInput(now: .zero))
        #expect(first.map(\.recordNumbers) == [[0, 1, 2]])
        let retried = Self.calls(
            batcher.callSucceeded(
                id: first[0].id,
                outcomes: [
                    .failed(code: "ProvisionedThroughputExceededException", message: "throttled"),
                    .failed(code: "InternalFailure", message: "unknown"), .written,
                ],
                now: .milliseconds(1),
                random: &random
            ) + batcher.tick(now: .seconds(10))
        )
        // b (may have been stored) keeps 1; a (certainly not stored) is 3 now; the call's numbers ascend.
        #expect(retried.map(\.recordNumbers) == [[1, 3]])
        #expect(retried.map { $0.entries.map(\.partitionKey) } == [["b", "a"]])
    }

    @Test("two records of one key never share a call: the second goes after the first is written")
    func keyOrder() {
        var random = SplitMix64(seed: 1)
        var batcher = PutBatcher(settings: Self.settings())
        _ = batcher.add(Self.entry("k", "1"), now: .zero)
        _ = batcher.add(Self.entry("k", "2"), now: .zero)
        _ = batcher.add(Self.entry("j", "3"), now: .zero)
        let first = Self.calls(batcher.endOfInput(now: .zero))
        #expect(first.count == 1)
        #expect(first[0].entries.map { String(decoding: $0.data, as: UTF8.self) } == ["1", "3"])
        let second = Self.calls(
            batcher.callSucceeded(
                id: first[0].id,
                outcomes: [.written, .written],
                now: .milliseconds(1),
                random: &random
            )
        )
        #expect(second.map { $0.entries.map { String(decoding: $0.data, as: UTF8.self) } } == [["2"]])
        _ = batcher.callSucceeded(id: second[0].id, outcomes: [.written], now: .milliseconds(2), random: &random)
        #expect(batcher.isFinished)
        #expect(batcher.summary.written == 3 && batcher.summary.calls == 2)
    }

    @Test("a partial failure resends only the failed record, after backoff, before the next record of its key")
    func partialFailure() {
        var random = SplitMix64(seed: 2)
        var batcher = PutBatcher(settings: Self.settings())
        for (key, text) in [("a", "a1"), ("b", "b1"), ("a", "a2")] {
            _ = batcher.add(Self.entry(key, text), now: .zero)
        }
        let call = Self.calls(batcher.endOfInput(now: .zero))[0]
        let after = batcher.callSucceeded(
            id: call.id,
            outcomes: [.failed(code: "ProvisionedThroughputExceededException", message: "slow down"), .written],
            now: .milliseconds(10),
            random: &random
        )
        #expect(Self.calls(after).isEmpty)  // a1 is backing off, a2 waits behind it
        guard case .wake(let at)? = after.last else {
            Issue.record("no wake after a retryable failure: \(after)")
            return
        }
        #expect(at >= .milliseconds(10) + .milliseconds(50) && at <= .milliseconds(10) + .milliseconds(100))
        let retry = Self.calls(batcher.tick(now: at))
        #expect(retry.map { $0.entries.map { String(decoding: $0.data, as: UTF8.self) } } == [["a1"]])
        let last = Self.calls(batcher.callSucceeded(id: retry[0].id, outcomes: [.written], now: at, random: &random))
        #expect(last.map { $0.entries.map { String(decoding: $0.data, as: UTF8.self) } } == [["a2"]])
        #expect(batcher.summary.retries == 1)
    }

    @Test("a record that runs out of attempts fails with every later record of its key; other keys go on")
    func giveUp() {
        var random = SplitMix64(seed: 3)
        var batcher = PutBatcher(settings: Self.settings(attempts: 3))
        for (key, text) in [("a", "a1"), ("a", "a2"), ("b", "b1")] {
            _ = batcher.add(Self.entry(key, text), now: .zero)
        }
        var now = Duration.zero
        var directives = batcher.endOfInput(now: now)
        for _ in 0..<100 where !batcher.isFinished {
            for call in Self.calls(directives) {
                let outcomes: [PutBatcher.RecordOutcome] = call.entries.map {
                    $0.partitionKey == "a" ? .failed(code: "InternalFailure", message: "boom") : .written
                }
                directives = batcher.callSucceeded(id: call.id, outcomes: outcomes, now: now, random: &random)
            }
            if case .wake(let at)? = directives.last {
                now = at
                directives = batcher.tick(now: now)
            }
        }
        #expect(batcher.isFinished)
        #expect(batcher.summary.written == 1 && batcher.summary.failed == 1 && batcher.summary.unsent == 1)
        #expect(batcher.summary.retries == 2)
    }

    @Test("a record added after its key failed is not sent")
    func failedKeyStaysFailed() {
        var random = SplitMix64(seed: 8)
        var batcher = PutBatcher(settings: Self.settings(attempts: 1))
        _ = batcher.add(Self.entry("a"), now: .zero)
        let call = Self.calls(batcher.tick(now: .seconds(1)))[0]
        _ = batcher.callSucceeded(
            id: call.id,
            outcomes: [.failed(code: "KMSAccessDeniedException", message: "no")],
            now: .seconds(1),
            random: &random
        )
        #expect(batcher.summary.failed == 1)
        let directives = batcher.add(Self.entry("a"), now: .seconds(1))
        #expect(directives.isEmpty)
        #expect(batcher.summary.unsent == 1 && batcher.buffered == 0)
    }

    @Test("a non-retryable call error ends the run; records not in flight are counted unsent")
    func fatal() {
        var random = SplitMix64(seed: 4)
        var batcher = PutBatcher(settings: Self.settings(inFlight: 1))
        for index in 0..<3 { _ = batcher.add(Self.entry("k\(index % 2)"), now: .zero) }
        let call = Self.calls(batcher.endOfInput(now: .zero))[0]
        let after = batcher.callFailed(
            id: call.id,
            failure: .error(code: "ResourceNotFoundException", message: "Stream s not found"),
            now: .zero,
            random: &random
        )
        #expect(Self.calls(after).isEmpty)
        #expect(batcher.fatal == "ResourceNotFoundException: Stream s not found")
        #expect(batcher.isFinished)
        #expect(batcher.summary.unsent == 3)
    }

    @Test("transport failures retry the whole call; the in-flight limit holds", arguments: [UInt64(5), 6, 7])
    func transport(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var batcher = PutBatcher(settings: Self.settings(inFlight: 2))
        var directives: [PutBatcher.Directive] = []
        for index in 0..<1200 { directives += batcher.add(Self.entry("k\(index % 600)"), now: .zero) }
        directives += batcher.endOfInput(now: .zero)
        var now = Duration.zero
        var inFlight = Self.calls(directives)
        var failedOnce = false
        for _ in 0..<1000 where !batcher.isFinished {
            #expect(inFlight.count <= 2)
            guard !inFlight.isEmpty else {
                now += .milliseconds(100)
                inFlight = Self.calls(batcher.tick(now: now))
                continue
            }
            let call = inFlight.removeFirst()
            if !failedOnce {
                failedOnce = true
                inFlight += Self.calls(
                    batcher.callFailed(id: call.id, failure: .transport("connection reset"), now: now, random: &random)
                )
            } else {
                inFlight += Self.calls(
                    batcher.callSucceeded(
                        id: call.id,
                        outcomes: call.entries.map { _ in .written },
                        now: now,
                        random: &random
                    )
                )
            }
        }
        #expect(batcher.isFinished)
        #expect(batcher.summary.written == 1200)
        #expect(batcher.summary.retries >= 1)
    }
}
