import RillKinesis
import RillModel
import Testing

@Suite struct FlowShipperTests {
    private func records(_ producer: String, _ range: Range<UInt64>) -> [FlowShipper.Record] {
        range.map { line in
            FlowShipper.Record(
                producerID: producer,
                sequence: line,
                entry: ProducerEntry(partitionKey: "k", data: Array("\(line)\n".utf8)),
                endOffset: Int64(line + 1) * 2
            )
        }
    }

    private func settings(records: Int = 3, age: Duration = .seconds(1)) -> FlowShipper.Settings {
        var settings = FlowShipper.Settings()
        settings.maxRecords = records
        settings.maxAge = age
        return settings
    }

    @Test("a call goes when the buffer is full or its oldest record is old enough")
    func buffering() {
        var shipper = FlowShipper(settings: settings())
        shipper.add(records("p", 0..<2), now: .zero)
        #expect(shipper.nextCall(now: .milliseconds(10)) == nil)
        #expect(shipper.wakeAt() == .seconds(1))
        #expect(shipper.nextCall(now: .seconds(1))?.sequences == [0, 1])
        var full = FlowShipper(settings: settings())
        full.add(records("p", 0..<4), now: .zero)
        #expect(full.nextCall(now: .zero)?.sequences == [0, 1, 2])
        #expect(full.nextCall(now: .zero) == nil, "one call in flight")
    }

    @Test("a call holds one producer's records")
    func oneProducerPerCall() {
        var shipper = FlowShipper(settings: settings(records: 10, age: .zero))
        shipper.add(records("old", 0..<2) + records("new", 0..<2), now: .zero)
        var random = SplitMix64(seed: 1)
        let first = shipper.nextCall(now: .zero)
        #expect(first?.producerID == "old" && first?.sequences == [0, 1])
        #expect(shipper.answered([.written, .written], now: .zero, random: &random)?.offset == 4)
        #expect(shipper.nextCall(now: .zero)?.producerID == "new")
    }

    @Test("a partial failure resends from the first failed record, with the same numbers, after backoff")
    func partialFailure() {
        var shipper = FlowShipper(settings: settings(records: 3, age: .zero))
        shipper.add(records("p", 0..<3), now: .zero)
        var random = SplitMix64(seed: 2)
        _ = shipper.nextCall(now: .zero)
        let ack = shipper.answered(
            [.written, .failed(code: "ProvisionedThroughputExceededException", message: "slow down"), .written],
            now: .zero,
            random: &random
        )
        #expect(ack?.producerID == "p" && ack?.offset == 2 && ack?.nextLine == 1)
        #expect(shipper.nextCall(now: .zero) == nil, "backing off")
        let retry = shipper.nextCall(now: .seconds(10))
        #expect(retry?.sequences == [1, 2], "the stored record 2 goes again and is deduplicated by the stream")
        #expect(shipper.counts.sent == 1 && shipper.counts.retries == 2)
    }

    @Test("a call that failed whole goes again whole; a non-retryable record is counted failed and passed")
    func failures() {
        var shipper = FlowShipper(settings: settings(records: 2, age: .zero))
        shipper.add(records("p", 0..<2), now: .zero)
        var random = SplitMix64(seed: 3)
        _ = shipper.nextCall(now: .zero)
        shipper.failed("connection reset", now: .zero, random: &random)
        let again = shipper.nextCall(now: .seconds(10))
        #expect(again?.sequences == [0, 1])
        let ack = shipper.answered(
            [.failed(code: "InvalidArgumentException", message: "bad"), .written],
            now: .seconds(10),
            random: &random
        )
        #expect(ack?.offset == 4 && ack?.nextLine == 2)
        #expect(shipper.counts.failed == 1 && shipper.counts.sent == 1 && shipper.isIdle)
    }

    @Test("a record failing every attempt is passed after maxRecordAttempts")
    func attemptsRunOut() {
        var configured = settings(records: 1, age: .zero)
        configured.maxRecordAttempts = 3
        var shipper = FlowShipper(settings: configured)
        shipper.add(records("p", 0..<1), now: .zero)
        var random = SplitMix64(seed: 4)
        var now = Duration.zero
        var ack: FlowShipper.Acknowledgement?
        for _ in 0..<3 {
            now += .seconds(10)
            _ = shipper.nextCall(now: now)
            ack = shipper.answered([.failed(code: "InternalFailure", message: "x")], now: now, random: &random)
        }
        #expect(ack?.offset == 2 && shipper.counts.failed == 1 && shipper.isIdle)
    }
}
