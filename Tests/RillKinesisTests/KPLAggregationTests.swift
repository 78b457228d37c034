import RillKinesis
import RillModel
import SwiftProtobuf
import Testing

/// The KPL aggregated record format both ways: what the aggregator packs, the de-aggregator unpacks in order;
/// anything that is not a valid aggregate comes back as plain data (nil), as the KCL treats it.
@Suite struct KPLAggregationTests {
    static func records(_ count: Int, keys: Int = 3, hashKeys: Bool = false) -> [KPLUserRecord] {
        (0..<count).map { index in
            KPLUserRecord(
                partitionKey: "key-\(index % keys)",
                explicitHashKey: hashKeys && index % 2 == 0 ? "\(index * 1000)" : nil,
                data: Array("record \(index)".utf8)
            )
        }
    }

    @Test("records packed into one aggregate come back in order with their keys", arguments: [false, true])
    func roundTrip(hashKeys: Bool) throws {
        var aggregator = KPLAggregator(maxBytes: 1 << 20)
        let input = Self.records(50, hashKeys: hashKeys)
        for record in input {
            let outputs = aggregator.add(record)
            #expect(outputs.isEmpty)
        }
        let flushedOutput = aggregator.flush()
        let output = try #require(flushedOutput)
        #expect(output.userRecords == 50)
        #expect(output.partitionKey == "a")
        #expect(output.explicitHashKey == input[0].hashKey.description)
        #expect(Array(output.data.prefix(4)) == [0xF3, 0x89, 0x9A, 0xC2])
        #expect(KPLAggregation.deaggregate(output.data) == input)
        let rest = aggregator.flush()
        #expect(aggregator.count == 0 && rest == nil)
    }

    @Test("the aggregator's size estimate is the serialised size, and no aggregate exceeds maxBytes")
    func sizeLimit() throws {
        var random = SplitMix64(seed: 7)
        var aggregator = KPLAggregator(maxBytes: 4096)
        var outputs: [KPLAggregator.Output] = []
        var input: [KPLUserRecord] = []
        for index in 0..<2000 {
            let length = Int.random(in: 0...300, using: &random)
            let record = KPLUserRecord(
                partitionKey: "k\(Int.random(in: 0..<40, using: &random))",
                explicitHashKey: index % 7 == 0 ? "\(UInt64.random(in: 0...UInt64.max, using: &random))" : nil,
                data: (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            )
            input.append(record)
            outputs += aggregator.add(record)
            if aggregator.count > 1 { #expect(aggregator.sizeBytes <= 4096) }
        }
        if let last = aggregator.flush() { outputs.append(last) }
        var unpacked: [KPLUserRecord] = []
        for output in outputs {
            #expect(output.data.count + output.partitionKey.utf8.count <= 4096)
            if output.userRecords == 1 {
                unpacked.append(
                    KPLUserRecord(
                        partitionKey: output.partitionKey,
                        explicitHashKey: output.explicitHashKey,
                        data: output.data
                    )
                )
            } else {
                unpacked += try #require(KPLAggregation.deaggregate(output.data))
            }
        }
        #expect(unpacked == input)
        #expect(outputs.count > 10)
    }

    @Test("a lone record goes out as itself, and one too big for any aggregate goes out alone")
    func loneAndOversized() throws {
        var aggregator = KPLAggregator(maxBytes: 1024)
        let small = KPLUserRecord(partitionKey: "p", data: [1, 2, 3])
        let first = aggregator.add(small)
        #expect(first.isEmpty)
        let big = KPLUserRecord(partitionKey: "q", explicitHashKey: "5", data: [UInt8](repeating: 9, count: 2000))
        let outputs = aggregator.add(big)
        #expect(outputs.count == 2)
        #expect(
            outputs[0]
                == KPLAggregator.Output(partitionKey: "p", explicitHashKey: nil, data: [1, 2, 3], userRecords: 1)
        )
        #expect(
            outputs[1] == KPLAggregator.Output(partitionKey: "q", explicitHashKey: "5", data: big.data, userRecords: 1)
        )
        let rest = aggregator.flush()
        #expect(rest == nil)
    }

    @Test("plain data, bad magic, bad MD5, truncation and index out of range are plain data")
    func notAggregates() throws {
        var aggregator = KPLAggregator()
        for record in Self.records(3) { _ = aggregator.add(record) }
        let flushedGood = aggregator.flush()
        let good = try #require(flushedGood).data
        #expect(KPLAggregation.deaggregate(good) != nil)
        #expect(KPLAggregation.deaggregate(Array("hello".utf8)) == nil)
        #expect(KPLAggregation.deaggregate([]) == nil)
        #expect(KPLAggregation.deaggregate(KPLAggregation.magic) == nil)
        var badMagic = good
        badMagic[0] ^= 1
        #expect(KPLAggregation.deaggregate(badMagic) == nil)
        var badDigest = good
        badDigest[badDigest.count - 1] ^= 1
        #expect(KPLAggregation.deaggregate(badDigest) == nil)
        for cut in 0..<good.count { #expect(KPLAggregation.deaggregate(Array(good.prefix(cut))) == nil) }

        // A well-formed message whose record points past the key table, with a valid trailer.
        var message = KPLAggregatedRecord()
        message.partitionKeyTable = ["only"]
        var record = KPLRecord()
        record.partitionKeyIndex = 3
        record.data = .init([1])
        message.records = [record]
        let body: [UInt8] = try message.serializedBytes()
        #expect(KPLAggregation.deaggregate(KPLAggregation.magic + body + MD5.hash(body)) == nil)

        // A length prefix claiming far more bytes than follow, with a valid trailer.
        let absurd: [UInt8] = [0x1A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x08, 0x00]
        #expect(KPLAggregation.deaggregate(KPLAggregation.magic + absurd + MD5.hash(absurd)) == nil)
    }

    @Test("10,000 random and mutated aggregates never trap; valid trailers on mutated bodies exercise the parser")
    func fuzz() throws {
        var random = SplitMix64(seed: 0xA66_F022)
        var seeds: [[UInt8]] = []
        for count in [2, 5, 30] {
            var aggregator = KPLAggregator()
            for record in Self.records(count, hashKeys: count == 5) { _ = aggregator.add(record) }
            let flushed = aggregator.flush()
            seeds.append(try #require(flushed).data)
        }
        var parsed = 0
        for iteration in 0..<10_000 {
            var data = seeds[iteration % seeds.count]
            var body = Array(data[4..<(data.count - 16)])
            let mutations = Int.random(in: 1...4, using: &random)
            for _ in 0..<mutations {
                switch Int.random(in: 0..<4, using: &random) {
                case 0 where !body.isEmpty:
                    body[Int.random(in: 0..<body.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                case 1 where !body.isEmpty: body.removeSubrange(Int.random(in: 0..<body.count, using: &random)...)
                case 2:
                    body.insert(
                        UInt8.random(in: 0...255, using: &random),
                        at: Int.random(in: 0...body.count, using: &random)
                    )
                default:
                    body = (0..<Int.random(in: 0...64, using: &random)).map { _ in
                        UInt8.random(in: 0...255, using: &random)
                    }
                }
            }
            // Half keep a correct trailer so the protobuf parser sees the damage; half are damaged anywhere.
            data = KPLAggregation.magic + body + MD5.hash(body)
            if iteration % 2 == 1 {
                data[Int.random(in: 0..<data.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            }
            if let records = KPLAggregation.deaggregate(data) {
                parsed += 1
                #expect(records.allSatisfy { !$0.partitionKey.isEmpty || $0.partitionKey.isEmpty })
            }
        }
        #expect(parsed > 0)
    }
}
