import RillModel
import Testing

@testable import RillKinesis
@testable import RillRouting

/// Seeded random CBOR PutRecords bodies and answers, truncated and mutated, fed to the router's byte-level
/// splitter and answer reader: neither may trap, and a body the splitter takes must be one the node reads,
/// its sub-requests carrying exactly the records the node reads from the whole. A failure names the seed and
/// iteration so it replays.
@Suite struct PutRecordsCBORFuzzTests {
    static let iterations = 30_000

    @Test("random, truncated and mutated bodies never trap; what is split is what a node reads")
    func bodies() throws {
        let seed: UInt64 = 0xC0B0_5917
        var random = SplitMix64(seed: seed)
        var split = 0
        for iteration in 0..<Self.iterations {
            let records = (0..<Int.random(in: 1...6, using: &random)).map { _ in Self.record(&random) }
            let indefinite = Bool.random(using: &random)
            var body =
                indefinite
                ? PutRecordsCBORTests.indefinite(stream: "s", records)
                : PutRecordsCBORTests.definite(stream: "s", records)
            Self.mutate(&body, &random)
            guard let read = PutRecordsBody(body, encoding: .cbor) else { continue }
            split += 1
            // Taken by the splitter: the node must read it, and the split must lose or add nothing.
            guard let whole = try? PutRecordsCBORTests.read(body) else {
                Issue.record("seed \(seed) iteration \(iteration): split a body the node refuses: \(body)")
                return
            }
            #expect(read.count == whole.records.count)
            let slots = Array((0..<read.count).shuffled(using: &random))
            guard let parts = try? PutRecordsCBORTests.read(read.subRequest(slots)) else {
                Issue.record("seed \(seed) iteration \(iteration): an unreadable sub-request of \(body)")
                return
            }
            #expect(parts.stream == whole.stream)
            PutRecordsCBORTests.expectSame(parts.records, slots.map { whole.records[$0] })
        }
        // Most mutations break a body, but not all: else only the first bytes were tested.
        #expect(split > Self.iterations / 20)
    }

    @Test("random, truncated and mutated answers never trap")
    func answers() throws {
        let seed: UInt64 = 0xA115_3E25
        var random = SplitMix64(seed: seed)
        var read = 0
        for _ in 0..<Self.iterations {
            let count = Int.random(in: 1...8, using: &random)
            var merge = PutRecordsMerge(count: count, encoding: .cbor)
            for slot in 0..<count {
                switch Int.random(in: 0..<3, using: &random) {
                case 0:
                    let sequence = SequenceNumber(
                        epoch: 1,
                        index: LogIndex(random.next() >> 20),
                        slot: UInt16(slot),
                        arrivalSeconds: 0,
                        shardIndex: 0
                    )
                    merge.set(slot, .written(shard: ShardID(index: 0), sequence: sequence))
                case 1: merge.set(slot, .failed(KinesisError(.provisionedThroughputExceeded, "Rate exceeded")))
                default: break  // left unknown: InternalFailure
                }
            }
            // No whole-call error is set, so an answer is always written.
            var body = try merge.answer()
            Self.mutate(&body, &random)
            if PutRecordsAnswer(body, encoding: .cbor) != nil { read += 1 }
        }
        #expect(read > 0)
    }

    static func record(_ random: inout SplitMix64) -> PutRecordsCBORTests.Record {
        let data = (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        let key = ["a", "key", "é", "𝄞x", String(repeating: "k", count: 30)].randomElement(using: &random) ?? "a"
        let explicit: String? =
            switch Int.random(in: 0..<6, using: &random) {
            case 0: String(random.next())
            case 1: "not-a-number"
            default: nil
            }
        return (data, key, explicit)
    }

    /// Leaves the body whole a quarter of the time; else truncates it, flips bytes, or sets bytes to CBOR
    /// heads that matter (indefinite heads, "break", long lengths).
    static func mutate(_ body: inout [UInt8], _ random: inout SplitMix64) {
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return
        case 1: body = Array(body.prefix(Int.random(in: 0..<max(1, body.count), using: &random)))
        case 2:
            for _ in 0..<Int.random(in: 1...3, using: &random) where !body.isEmpty {
                body[Int.random(in: 0..<body.count, using: &random)] ^=
                    UInt8(1) << UInt8.random(in: 0...7, using: &random)
            }
        default:
            let heads: [UInt8] = [
                0xFF, 0xBF, 0x9F, 0x5F, 0x7F, 0x1B, 0x5B, 0x7B, 0x9B, 0xBB, 0xA0, 0x80, 0x40, 0x60, 0xF6,
            ]
            for _ in 0..<Int.random(in: 1...2, using: &random) where !body.isEmpty {
                body[Int.random(in: 0..<body.count, using: &random)] = heads.randomElement(using: &random) ?? 0xFF
            }
        }
    }
}
