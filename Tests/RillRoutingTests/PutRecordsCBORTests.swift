import RillModel
import Testing

@testable import RillKinesis
@testable import RillRouting

/// The router's CBOR PutRecords path: bodies split by shard without JSON, sub-requests and answers merged
/// byte for byte, definite and indefinite lengths (what Jackson writes).
@Suite struct PutRecordsCBORTests {
    typealias Record = (data: [UInt8], partitionKey: String, explicitHashKey: String?)

    /// A body as cbor2 or any preferred-serialization encoder writes it: definite lengths throughout.
    static func definite(stream: String, _ records: [Record]) -> [UInt8] {
        var w = CBORWriter()
        w.beginMap()
        w.text("StreamName")
        w.text(stream)
        w.text("Records")
        w.beginArray()
        for record in records {
            w.beginMap()
            w.text("Data")
            w.bytes(record.data)
            w.text("PartitionKey")
            w.text(record.partitionKey)
            if let explicit = record.explicitHashKey {
                w.text("ExplicitHashKey")
                w.text(explicit)
            }
            w.endMap()
        }
        w.endArray()
        w.endMap()
        return w.bytes
    }

    /// The same body as Jackson's generator may write it: indefinite maps and array, the stream name and
    /// partition keys as chunked text, the data as chunked byte strings, Records before StreamName.
    static func indefinite(stream: String, _ records: [Record]) -> [UInt8] {
        var bytes: [UInt8] = [0xBF]
        bytes += text("Records") + [0x9F]
        for record in records {
            bytes += [0xBF] + text("PartitionKey") + chunkedText(record.partitionKey)
            bytes += text("Data") + [0x5F]
            let half = record.data.count / 2
            bytes += byteString(Array(record.data[..<half])) + byteString(Array(record.data[half...])) + [0xFF]
            if let explicit = record.explicitHashKey { bytes += text("ExplicitHashKey") + chunkedText(explicit) }
            bytes.append(0xFF)
        }
        bytes.append(0xFF)
        bytes += text("StreamName") + chunkedText(stream)
        bytes.append(0xFF)
        return bytes
    }

    static func text(_ value: String) -> [UInt8] {
        var w = CBORWriter()
        w.text(value)
        return w.bytes
    }

    static func byteString(_ value: [UInt8]) -> [UInt8] {
        var w = CBORWriter()
        w.bytes(value)
        return w.bytes
    }

    /// Text as an indefinite string of two chunks, split between scalars.
    static func chunkedText(_ value: String) -> [UInt8] {
        let characters = Array(value)
        let half = characters.count / 2
        return [0x7F] + text(String(characters[..<half])) + text(String(characters[half...])) + [0xFF]
    }

    /// The records of a CBOR PutRecords body as the node reads them.
    static func read(_ body: [UInt8]) throws -> (stream: String?, records: [Record]) {
        var r = try RequestReader(cbor: body)
        let items = try #require(try r.array("Records"))
        let records = try items.map { item -> Record in
            guard case .object(let object) = item else { throw KinesisError(.validation, "not an object") }
            return (
                try r.blob("Data", in: object) ?? [], try r.string("PartitionKey", in: object) ?? "",
                try r.string("ExplicitHashKey", in: object)
            )
        }
        return (try r.string("StreamName"), records)
    }

    static let records: [Record] = [
        (Array("one".utf8), "a", nil),
        ([], "k\"q", nil),
        ([0, 1, 2, 255], "c", "17"),
        (Array(repeating: 7, count: 300), "é𝄞", nil),
    ]

    static func expectSame(_ left: [Record], _ right: [Record]) {
        #expect(left.map(\.data) == right.map(\.data))
        #expect(left.map(\.partitionKey) == right.map(\.partitionKey))
        #expect(left.map(\.explicitHashKey) == right.map(\.explicitHashKey))
    }

    // MARK: - Reading and splitting a body

    @Test("definite and indefinite bodies are hashed and measured where they stand", arguments: [false, true])
    func bodiesAreReadInPlace(indefinite: Bool) throws {
        let body = indefinite ? Self.indefinite(stream: "s", Self.records) : Self.definite(stream: "s", Self.records)
        let split = try #require(PutRecordsBody(body, encoding: .cbor))
        #expect(split.encoding == .cbor)
        #expect(split.selector.name == "s")
        #expect(
            split.hashKeys == [
                HashKey(partitionKey: "a"), HashKey(partitionKey: "k\"q"), HashKey(17), HashKey(partitionKey: "é𝄞"),
            ]
        )
        #expect(split.sizes.map(\.dataBytes) == [3, 0, 4, 300])
        #expect(split.sizes.map(\.keyUTF16) == [1, 3, 1, 3])
        #expect(split.sizes.map(\.keyUTF8) == [1, 3, 1, 6])
        #expect(!split.isSurelyRefused(maxRecordBytes: 1 << 20))
        #expect(split.isSurelyRefused(maxRecordBytes: 200))
    }

    @Test("sub-requests carry each record's item byte for byte, in the order asked", arguments: [false, true])
    func subRequestsAreByteForByte(indefinite: Bool) throws {
        let body = indefinite ? Self.indefinite(stream: "s", Self.records) : Self.definite(stream: "s", Self.records)
        let split = try #require(PutRecordsBody(body, encoding: .cbor))
        let sub = split.subRequest([3, 0, 2])
        let (stream, records) = try Self.read(sub)
        #expect(stream == "s")
        Self.expectSame(records, [Self.records[3], Self.records[0], Self.records[2]])
        for slot in [3, 0, 2] {
            guard case .raw(let range) = split.records[slot] else {
                Issue.record("a CBOR record was not kept as a byte range")
                return
            }
            let item = Array(body[range])
            #expect(sub.indices.contains { sub[$0...].starts(with: item) })
        }
        // The whole body split into one part reads as the original.
        Self.expectSame(try Self.read(split.subRequest(Array(0..<4))).records, Self.records)
        // 24 and more records need a longer array head; the sub-request is still well-formed.
        let many = (0..<30).map { (data: [UInt8($0)], partitionKey: "k\($0)", explicitHashKey: String?.none) }
        let big = try #require(PutRecordsBody(Self.indefinite(stream: "s", many), encoding: .cbor))
        Self.expectSame(try Self.read(big.subRequest(Array((0..<30).reversed()))).records, Array(many.reversed()))
    }

    @Test("a StreamARN alone names the stream and starts every sub-request")
    func streamARN() throws {
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        var w = CBORWriter()
        w.beginMap()
        w.text("StreamARN")
        w.text(arn)
        w.text("Records")
        w.beginArray()
        w.beginMap()
        w.text("Data")
        w.bytes([1])
        w.text("PartitionKey")
        w.text("a")
        w.endMap()
        w.endArray()
        w.endMap()
        let split = try #require(PutRecordsBody(w.bytes, encoding: .cbor))
        #expect(split.selector.name == "s")
        var r = try RequestReader(cbor: split.subRequest([0]))
        #expect(try r.string("StreamARN") == arn)
    }

    @Test("a malformed explicit hash key leaves the body to be refused whole")
    func malformedExplicitHashKey() throws {
        let body = Self.definite(stream: "s", [(Array("x".utf8), "a", "not-a-number"), (Array("y".utf8), "b", nil)])
        let split = try #require(PutRecordsBody(body, encoding: .cbor))
        #expect(split.hashKeys[0] == nil)
        #expect(split.isSurelyRefused(maxRecordBytes: 1 << 20))
    }

    @Test("anything unexpected is left to the full reader (nil)")
    func unexpectedBodiesAreNotSliced() {
        func body(_ build: (inout CBORWriter) -> Void) -> [UInt8] {
            var w = CBORWriter()
            build(&w)
            return w.bytes
        }
        let good = Self.definite(stream: "s", [(Array("x".utf8), "a", nil)])
        #expect(PutRecordsBody(good, encoding: .cbor) != nil)
        let cases: [[UInt8]] = [
            [],
            good + [0x00],  // bytes after the map
            Array(good.dropLast()),  // truncated
            body { w in  // Data as text
                w.beginMap()
                w.text("StreamName")
                w.text("s")
                w.text("Records")
                w.beginArray()
                w.beginMap()
                w.text("Data")
                w.text("eA==")
                w.text("PartitionKey")
                w.text("a")
                w.endMap()
                w.endArray()
                w.endMap()
            },
            body { w in  // a member the model does not have
                w.beginMap()
                w.text("StreamName")
                w.text("s")
                w.text("Extra")
                w.int(1)
                w.text("Records")
                w.beginArray()
                w.endArray()
                w.endMap()
            },
            body { w in  // a repeated member in a record
                w.beginMap()
                w.text("StreamName")
                w.text("s")
                w.text("Records")
                w.beginArray()
                w.beginMap()
                w.text("Data")
                w.bytes([1])
                w.text("PartitionKey")
                w.text("a")
                w.text("PartitionKey")
                w.text("b")
                w.endMap()
                w.endArray()
                w.endMap()
            },
            body { w in  // no partition key
                w.beginMap()
                w.text("StreamName")
                w.text("s")
                w.text("Records")
                w.beginArray()
                w.beginMap()
                w.text("Data")
                w.bytes([1])
                w.endMap()
                w.endArray()
                w.endMap()
            },
            Self.definite(stream: "s", []),  // no records
            [0x5B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],  // an absurd length
        ]
        for bytes in cases { #expect(PutRecordsBody(bytes, encoding: .cbor) == nil, "\(bytes)") }
    }

    // MARK: - Merging answers

    static let shard = ShardID(index: 1)

    static func merge(_ encoding: WireProtocol) -> PutRecordsMerge {
        var merge = PutRecordsMerge(count: 4, encoding: encoding)
        merge.set(
            0,
            .written(
                shard: shard,
                sequence: SequenceNumber(epoch: 1, index: LogIndex(7), slot: 0, arrivalSeconds: 0, shardIndex: 1)
            )
        )
        merge.set(1, .failed(KinesisError(.provisionedThroughputExceeded, "Rate exceeded for shard")))
        merge.set(3, .failed(.internalFailure("no leader in time")))
        merge.encryptionType = "KMS"
        return merge
    }

    @Test("a CBOR answer is the JSON one as the transcoder writes it")
    func cborAnswerMatchesTranscodedJSON() throws {
        let json = try Self.merge(.json).answer()
        let cbor = try Self.merge(.cbor).answer()
        #expect(cbor == (try JSONToCBOR.transcode(json)))
        let answer = try #require(PutRecordsAnswer(cbor, encoding: .cbor))
        #expect(answer.results.map(\.failed) == [false, true, true, true])
        #expect(answer.encryptionType == "KMS")
    }

    @Test("a whole-call error fails a CBOR answer as it fails a JSON one")
    func wholeCallErrors() {
        var merge = PutRecordsMerge(count: 2, encoding: .cbor)
        merge.fail([0, 1], KinesisError(.resourceNotFound, "Stream s not found."))
        #expect(throws: KinesisError.self) { try merge.answer() }
    }

    @Test("leaders' CBOR results go into the client's answer unchanged, definite or indefinite")
    func resultsPassThrough() throws {
        let leader = try Self.merge(.cbor).answer()
        // The same answer as an indefinite-length encoder would write it.
        var indefinite: [UInt8] = [0xBF] + Self.text("Records") + [0x9F]
        let definiteAnswer = try #require(PutRecordsAnswer(leader, encoding: .cbor))
        for result in definiteAnswer.results { indefinite += leader[result.range] }
        indefinite += [0xFF] + Self.text("FailedRecordCount") + [0x03] + [0xFF]
        for body in [leader, indefinite] {
            let answer = try #require(PutRecordsAnswer(body, encoding: .cbor))
            #expect(answer.results.map(\.failed) == [false, true, true, true])
            var client = PutRecordsMerge(count: 5, encoding: .cbor)
            for (slot, result) in zip([4, 0, 2, 1], answer.results) {
                client.set(slot, .result(answer.body[result.range], failed: result.failed))
            }
            client.set(
                3,
                .written(
                    shard: Self.shard,
                    sequence: SequenceNumber(epoch: 1, index: LogIndex(9), slot: 1, arrivalSeconds: 0, shardIndex: 1)
                )
            )
            let merged = try client.answer()
            var r = try RequestReader(cbor: merged)
            #expect(try r.integer("FailedRecordCount") == 3)
            let items = try #require(try r.array("Records"))
            let codes = try items.map { item -> String in
                guard case .object(let object) = item else { return "?" }
                return try r.string("ErrorCode", in: object) ?? r.string("SequenceNumber", in: object) ?? "?"
            }
            #expect(codes[0] == "ProvisionedThroughputExceededException")
            #expect(codes[1] == "InternalFailure")
            #expect(codes[2] == "InternalFailure")
            let sequences = codes[3...].filter { code in !code.isEmpty && code.allSatisfy(\.isNumber) }
            #expect(sequences.count == 2)
        }
        #expect(PutRecordsAnswer([0xA1], encoding: .cbor) == nil)
        #expect(PutRecordsAnswer(Array(leader.dropLast()), encoding: .cbor) == nil)
    }
}
