import RillKinesis
import RillModel
import Testing

@Suite struct ProducerWindowTests {
    static func at(_ index: UInt64, _ slot: UInt16 = 0, _ stamp: Int64 = 0) -> RecordPosition {
        RecordPosition(index: LogIndex(index), slot: slot, stampMillis: stamp)
    }

    @Test("a retry of a committed record is a duplicate with its first position; one older than the window is refused")
    func verdicts() {
        var limits = ProducerWindow.Limits()
        limits.window = 3
        var window = ProducerWindow(limits: limits)
        #expect(window.verdict(producer: "p", sequence: 7) == .new, "a producer may start anywhere")
        for sequence in UInt64(7)...11 { window.apply(producer: "p", sequence: sequence, at: Self.at(sequence)) }
        #expect(window.verdict(producer: "p", sequence: 12) == .new)
        #expect(window.verdict(producer: "p", sequence: 10) == .duplicate(Self.at(10)))
        #expect(window.verdict(producer: "p", sequence: 9) == .duplicate(Self.at(9)))
        #expect(window.verdict(producer: "p", sequence: 8) == .tooOld(forgottenThrough: 8))
        #expect(window.verdict(producer: "p", sequence: 40) == .new, "other shards took the numbers between")
        #expect(window.verdict(producer: "q", sequence: 0) == .new, "producers are independent")
        // A second copy that reached the log anyway changes nothing and is reported.
        #expect(window.apply(producer: "p", sequence: 11, at: Self.at(99)) == .duplicate(Self.at(11)))
        #expect(window.verdict(producer: "p", sequence: 11) == .duplicate(Self.at(11)))
    }

    @Test("a request that overtook an earlier one: the earlier, later committed, is new; once evicted, too old")
    func overtaking() {
        var limits = ProducerWindow.Limits()
        limits.window = 2
        var window = ProducerWindow(limits: limits)
        window.apply(producer: "p", sequence: 5, at: Self.at(1))
        #expect(window.verdict(producer: "p", sequence: 4) == .new)
        window.apply(producer: "p", sequence: 4, at: Self.at(2))
        window.apply(producer: "p", sequence: 6, at: Self.at(3))
        // 5 left the ring (committed first); 4 is still there although smaller.
        #expect(window.verdict(producer: "p", sequence: 4) == .duplicate(Self.at(2)))
        #expect(window.verdict(producer: "p", sequence: 5) == .tooOld(forgottenThrough: 5))
    }

    @Test("the ring keeps exactly the newest records, oldest overwritten in place")
    func ringBound() {
        var limits = ProducerWindow.Limits()
        limits.window = 500
        var window = ProducerWindow(limits: limits)
        for sequence in UInt64(0)..<5_000 { window.apply(producer: "p", sequence: sequence, at: Self.at(sequence + 1)) }
        #expect(window.verdict(producer: "p", sequence: 4_500) == .duplicate(Self.at(4_501)))
        #expect(window.verdict(producer: "p", sequence: 4_499) == .tooOld(forgottenThrough: 4_499))
        #expect(window.verdict(producer: "p", sequence: 4_999) == .duplicate(Self.at(5_000)))
    }

    @Test("idle producers expire by log time, the producer count is bounded, and the state survives a snapshot")
    func bounds() throws {
        var limits = ProducerWindow.Limits()
        limits.idleExpiryMillis = 1_000
        limits.expiryCheckMillis = 0
        limits.maxProducers = 3
        var window = ProducerWindow(limits: limits)
        for (index, producer) in ["a", "b", "c", "d"].enumerated() {
            window.apply(producer: producer, sequence: 0, at: Self.at(UInt64(index + 1), 0, Int64(index) * 100))
        }
        #expect(window.producerCount == 3)
        #expect(window.verdict(producer: "a", sequence: 0) == .new, "the longest idle went first")
        let restored = try ProducerWindow(decoding: window.encoded(), limits: limits)
        #expect(restored == window)
        #expect(restored.encoded() == window.encoded(), "the same window encodes to the same bytes")
        window.advance(toMillis: 1_150)
        #expect(window.producerCount == 2, "b (seen at 100) expired; c and d remain")
        #expect(try ProducerWindow(decoding: []) == ProducerWindow(), "no state is an empty window")
        #expect(throws: ProducerWindow.DecodeError.self) {
            try ProducerWindow(decoding: Array(window.encoded().dropLast()))
        }
    }

    @Test("the expiry look runs at most once per interval of log time")
    func expiryInterval() {
        var limits = ProducerWindow.Limits()
        limits.idleExpiryMillis = 100
        limits.expiryCheckMillis = 1_000
        var window = ProducerWindow(limits: limits)
        window.apply(producer: "a", sequence: 0, at: Self.at(1, 0, 0))
        window.advance(toMillis: 0)
        window.advance(toMillis: 500)
        #expect(window.producerCount == 1, "no look before the interval passed")
        window.advance(toMillis: 1_000)
        #expect(window.producerCount == 0)
    }

    @Test("applying entries again on a window taken later changes nothing (snapshot + replay)")
    func replayIsIdempotent() throws {
        var limits = ProducerWindow.Limits()
        limits.window = 4
        var window = ProducerWindow(limits: limits)
        var log: [(String, UInt64, RecordPosition)] = []
        for step in UInt64(0)..<30 {
            let producer = step % 3 == 0 ? "a" : "b"
            log.append((producer, step, Self.at(step + 1)))
        }
        for (producer, sequence, position) in log.prefix(20) {
            window.apply(producer: producer, sequence: sequence, at: position)
        }
        let snapshot = window.encoded()
        for (producer, sequence, position) in log.suffix(10) {
            window.apply(producer: producer, sequence: sequence, at: position)
        }
        // A restart: the window saved at entry 20, the log retained from entry 12.
        var replayed = try ProducerWindow(decoding: snapshot, limits: limits)
        for (producer, sequence, position) in log.suffix(18) {
            replayed.apply(producer: producer, sequence: sequence, at: position)
        }
        #expect(replayed == window)
    }

    @Test("producer stamps: header values parse, ranges expand, bad ones are InvalidArgument")
    func stamps() throws {
        let stamp = try #require(try ProducerStamp(id: "host-1:run.7", sequence: "3,5-8, 10"))
        #expect(stamp.sequences == [3, 5, 6, 7, 8, 10])
        #expect(ProducerStamp.headerValue(stamp.sequences) == "3,5-8,10")
        #expect(stamp.subset([0, 5]).sequences == [3, 10])
        #expect(try ProducerStamp(id: nil, sequence: nil) == nil, "plain clients send neither header")
        for (id, sequence) in [
            ("p", "5,5"), ("p", "6,5"), ("p", ""), ("p", "x"), ("p", "9-3"), ("p", "0-500"), ("", "1"),
            ("a b", "1"), ("p", nil), (nil, "1"),
        ] as [(String?, String?)] {
            #expect(throws: KinesisError.self, "\(String(describing: id)) \(String(describing: sequence))") {
                _ = try ProducerStamp(id: id, sequence: sequence)
            }
        }
    }

    @Test("record batches carry the stamp after the records; plain batches are unchanged")
    func batches() throws {
        let records = [RecordBatch.Record(partitionKey: "k", data: [1, 2]), .init(partitionKey: "kk", data: [])]
        let plain = RecordBatch(records: records)
        #expect(try RecordBatch.producerStamp(of: plain.encoded()) == nil)
        let stamped = RecordBatch(records: records, producer: ProducerStamp(producerID: "p", sequences: [4, 9]))
        let bytes = stamped.encoded()
        #expect(RecordBatch.isWellFormed(bytes))
        #expect(try RecordBatch(decoding: bytes) == stamped)
        #expect(try RecordBatch.producerStamp(of: bytes) == stamped.producer)
        #expect(!RecordBatch.isWellFormed(Array(bytes.dropLast())))
        #expect(throws: RecordBatch.DecodeError.self) { try RecordBatch.producerStamp(of: Array(bytes.dropLast())) }
    }

    /// Replicas read a committed entry's stamp from its tail; it must be the stamp the full walk reads, for any
    /// id length, record count and record bytes (zeros included), and plain batches have none.
    @Test("seeded: the stamp read from a batch's tail is the stamp read by walking its records", arguments: 0..<40)
    func stampFromTail(seed: Int) throws {
        var random = SplitMix(seed: UInt64(seed))
        let idBytes = Array("abcXYZ019._:-".utf8)
        for _ in 0..<20 {
            let id = String(
                decoding: (0..<(1 + random.below(ProducerStamp.maxIDLength))).map { _ in
                    idBytes[random.below(idBytes.count)]
                },
                as: UTF8.self
            )
            let count = 1 + random.below(random.below(2) == 0 ? 5 : 500)
            let records = (0..<count).map { _ in
                RecordBatch.Record(
                    partitionKey: String(repeating: "k", count: 1 + random.below(20)),
                    data: (0..<random.below(40)).map { _ in UInt8(random.below(3)) }
                )
            }
            var sequence = UInt64(random.below(1_000))
            let sequences = (0..<count).map { _ in
                sequence += UInt64(1 + random.below(300))
                return sequence << UInt64(random.below(2) * 40)
            }
            let stamp = ProducerStamp(producerID: id, sequences: sequences)
            let bytes = RecordBatch(records: records, producer: stamp).encoded()
            #expect(try RecordBatch.producerStamp(ofWellFormed: bytes) == stamp)
            #expect(try RecordBatch.producerStamp(ofWellFormed: RecordBatch(records: records).encoded()) == nil)
        }
    }

    /// The batch forms the leader and the replicas use (one lookup of the producer per entry) answer exactly as
    /// the record-by-record forms, over windows that evict, retries, overtaking and new producers.
    @Test("seeded: batch verdicts and batch apply equal the record-by-record forms", arguments: 0..<50)
    func batchFormsAgree(seed: Int) {
        var random = SplitMix(seed: UInt64(seed))
        var limits = ProducerWindow.Limits()
        limits.window = 1 + random.below(40)
        limits.maxProducers = 3
        var byRecord = ProducerWindow(limits: limits)
        var byBatch = ProducerWindow(limits: limits)
        var inFlightByRecord = InFlightProducers<Int>()
        var inFlightByBatch = InFlightProducers<Int>()
        for index in UInt64(1)...300 {
            let producer = "p\(random.below(5))"
            // Strictly increasing within a batch, often overlapping earlier batches (retries).
            var sequence = UInt64(random.below(200))
            var sequences: [UInt64] = []
            for _ in 0..<(1 + random.below(12)) {
                sequences.append(sequence)
                sequence += UInt64(1 + random.below(3))
            }
            let stamp = Int64(index) * 10
            #expect(
                byBatch.verdicts(producer: producer, sequences: sequences)
                    == sequences.map { byRecord.verdict(producer: producer, sequence: $0) }
            )
            #expect(
                inFlightByBatch.tickets(producer: producer, sequences: sequences)
                    == sequences.map { inFlightByRecord.ticket(producer: producer, sequence: $0) }
            )
            if random.below(2) == 0 {
                inFlightByBatch.proposed(producer: producer, sequences: sequences, ticket: Int(index))
                for sequence in sequences {
                    inFlightByRecord.proposed(producer: producer, sequence: sequence, ticket: Int(index))
                }
            } else {
                inFlightByBatch.settled(producer: producer, sequences: sequences)
                for sequence in sequences { inFlightByRecord.settled(producer: producer, sequence: sequence) }
            }
            let repeated = byBatch.apply(
                producer: producer,
                sequences: sequences,
                index: LogIndex(index),
                stampMillis: stamp
            )
            var repeatedByRecord = 0
            for (slot, sequence) in sequences.enumerated() {
                let position = Self.at(index, UInt16(slot), stamp)
                if byRecord.apply(producer: producer, sequence: sequence, at: position) != .new {
                    repeatedByRecord += 1
                }
            }
            #expect(repeated == repeatedByRecord)
            #expect(byBatch == byRecord)
        }
        #expect(inFlightByBatch.isEmpty == inFlightByRecord.isEmpty)
    }

    /// Producers retry at random, a retry can race its original into the log (two copies of one record in the
    /// log, as across a leader change without the leader's checks), entries apply in log order: every producer
    /// sequence is stored once and every answer names the position of that one copy.
    @Test("seeded: every producer sequence stored exactly once, whatever the retries", arguments: 0..<100)
    func exactlyOnce(seed: Int) {
        var random = SplitMix(seed: UInt64(seed))
        var window = ProducerWindow()
        var inFlight = InFlightProducers<Int>()
        var log: [(producer: String, sequence: UInt64)] = []
        var stored: [String: [UInt64: RecordPosition]] = [:]
        var answers: [String: [UInt64: RecordPosition]] = [:]
        var next: [String: UInt64] = [:]
        var applied = 0
        for step in 0..<2_000 {
            let producer = "p\(random.below(5))"
            let sequence = next[producer, default: 0]
            // The leader: a record in flight is not proposed twice; a committed one is answered from the window.
            switch window.verdict(producer: producer, sequence: sequence) {
            case .duplicate(let position):
                answers[producer, default: [:]][sequence] = position
                next[producer] = sequence + 1
            case .new:
                if inFlight.ticket(producer: producer, sequence: sequence) == nil || random.below(10) == 0 {
                    // One in ten models a leader change: the new leader's in-flight view is empty.
                    log.append((producer, sequence))
                    inFlight.proposed(producer: producer, sequence: sequence, ticket: log.count)
                }
                // The client's ack may be lost (it will retry the same sequence) or arrive (it moves on).
                if random.below(3) == 0, applied == log.count { next[producer] = sequence + 1 }
            case .tooOld:
                Issue.record("seed \(seed): unexpected refusal at step \(step)")
            }
            // Commit and apply a few entries.
            for _ in 0..<random.below(3) where applied < log.count {
                let entry = log[applied]
                applied += 1
                let position = RecordPosition(index: LogIndex(UInt64(applied)), slot: 0, stampMillis: Int64(step))
                if window.apply(producer: entry.producer, sequence: entry.sequence, at: position) == .new {
                    #expect(stored[entry.producer]?[entry.sequence] == nil, "seed \(seed): stored twice")
                    stored[entry.producer, default: [:]][entry.sequence] = position
                }
                inFlight.settled(producer: entry.producer, sequence: entry.sequence)
            }
        }
        #expect(!answers.isEmpty, "seed \(seed): some retries were answered from the window")
        for (producer, byProducer) in answers {
            for (sequence, position) in byProducer {
                #expect(stored[producer]?[sequence] == position, "seed \(seed): answered a copy not stored")
            }
        }
    }
}
