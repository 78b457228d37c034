import RillModel
import Testing

@testable import RillKinesis
@testable import RillRouting

@Suite struct PutRecordsSplitTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The records of a PutRecords body as the node reads them: (data, partition key, explicit hash key).
    static func records(_ body: [UInt8]) throws -> (String?, [(String, String, String?)]) {
        var r = try RequestReader(bytes: body)
        let items = try #require(try r.array("Records"))
        let records = try items.map { item -> (String, String, String?) in
            guard case .object(let object) = item else { throw KinesisError(.validation, "not an object") }
            return (
                try r.string("Data", in: object) ?? "", try r.string("PartitionKey", in: object) ?? "",
                try r.string("ExplicitHashKey", in: object)
            )
        }
        return (try r.string("StreamName"), records)
    }

    /// Each record's result in an answer: its sequence number or its error code.
    static func results(_ body: [UInt8]) throws -> (failed: Int64?, results: [String]) {
        var r = try RequestReader(bytes: body)
        let items = try #require(try r.array("Records"))
        let results = try items.map { item -> String in
            guard case .object(let object) = item else { return "?" }
            return try r.string("SequenceNumber", in: object) ?? r.string("ErrorCode", in: object) ?? "?"
        }
        return (try r.integer("FailedRecordCount"), results)
    }

    // MARK: - Reading a body (router)

    @Test("records are hashed where they stand and sent on byte for byte, in the order asked")
    func slicedBodiesSplitByteForByte() throws {
        let body = Self.bytes(
            #"{"StreamName":"s","Records":[{"Data":"YQ==","PartitionKey":"a"},{"PartitionKey":"k\"q","Data":"Yg=="},"#
                + #"{"Data":"Yw==","PartitionKey":"c","ExplicitHashKey":"17"}, {"Data":"ZA==", "PartitionKey":"é"}]}"#
        )
        let split = try #require(PutRecordsBody(body))
        #expect(split.selector.name == "s")
        #expect(
            split.hashKeys == [
                HashKey(partitionKey: "a"), HashKey(partitionKey: "k\"q"), HashKey(17), HashKey(partitionKey: "é"),
            ]
        )
        guard case .raw = split.records[0] else {
            Issue.record("a plain body was not sliced")
            return
        }
        #expect(split.sizes.map(\.dataBytes) == [1, 1, 1, 1])
        #expect(split.sizes.map(\.keyUTF16) == [1, 3, 1, 1])
        #expect(split.sizes.map(\.keyUTF8) == [1, 3, 1, 2])
        let (name, records) = try Self.records(split.subRequest([3, 0, 2]))
        #expect(name == "s")
        #expect(records.map(\.0) == ["ZA==", "YQ==", "Yw=="])
        #expect(records.map(\.1) == ["é", "a", "c"])
        #expect(records.map(\.2) == [nil, nil, "17"])
    }

    @Test("a body the slicer does not take is read by the parser and its records written anew")
    func unexpectedBodiesAreParsed() throws {
        let body = Self.bytes(
            #"{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","Records":[{"Data":"YQ==","PartitionKey":"a","Extra":1},"#
                + #"{"Data":"Yg==","PartitionKey":"b","ExplicitHashKey":"x"}]}"#
        )
        let split = try #require(PutRecordsBody(body))
        #expect(split.selector.name == "s")
        #expect(split.hashKeys == [HashKey(partitionKey: "a"), nil])
        guard case .decoded = split.records[0] else {
            Issue.record("an unexpected member was sliced")
            return
        }
        var r = try RequestReader(bytes: split.subRequest([1]))
        #expect(try r.string("StreamARN") == "arn:aws:kinesis:us-east-1:000000000000:stream/s")
        #expect(try Self.records(split.subRequest([1])).1.map(\.1) == ["b"])
    }

    @Test(
        "bodies that name no stream or hold no records are not split",
        arguments: [
            #"{"Records":[{"Data":"YQ==","PartitionKey":"a"}]}"#, #"{"StreamName":"s","Records":[]}"#,
            #"{"StreamName":"s"}"#,
            #"{"StreamName":"s","Records":[{"Data":"YQ=="}]}"#, "not json",
        ]
    )
    func unroutableBodiesAreNotSplit(_ text: String) {
        #expect(PutRecordsBody(Self.bytes(text)) == nil)
    }

    static func body(_ records: [String]) -> [UInt8] {
        bytes(#"{"StreamName":"s","Records":["# + records.joined(separator: ",") + "]}")
    }

    @Test(
        "a request a node would refuse as a whole is seen as such before it is split",
        arguments: [
            (Array(repeating: #"{"Data":"YQ==","PartitionKey":"a"}"#, count: 501), true),
            (Array(repeating: #"{"Data":"YQ==","PartitionKey":"a"}"#, count: 500), false),
            (
                [
                    #"{"Data":"YQ==","PartitionKey":"a"}"#,
                    #"{"Data":"YQ==","PartitionKey":"\#(String(repeating: "k", count: 257))"}"#,
                ], true
            ),
            ([#"{"Data":"YQ==","PartitionKey":"\#(String(repeating: "é", count: 256))"}"#], false),
            ([#"{"Data":"YQ==","PartitionKey":"\#(String(repeating: "😀", count: 129))"}"#], true),
            ([#"{"Data":"YQ==","PartitionKey":""}"#], true),
            ([#"{"Data":"YQ=","PartitionKey":"a"}"#], true),
            ([#"{"Data":"\#(String(repeating: "A", count: 1400))","PartitionKey":"a"}"#], true),
            ([#"{"Data":"\#(String(repeating: "A", count: 1364))","PartitionKey":"a"}"#], false),
            ([#"{"Data":"YQ==","PartitionKey":"a","ExplicitHashKey":"-1"}"#], true),
        ]
    )
    func wholeRequestRefusals(_ records: [String], _ refused: Bool) throws {
        // 1 KiB records: 1,364 base64 characters are 1,023 bytes, plus a 1-byte key.
        let body = try #require(PutRecordsBody(Self.body(records)))
        #expect(body.isSurelyRefused(maxRecordBytes: 1024) == refused)
    }

    // MARK: - Splitting (node and router)

    @Test("parts come in the order of their first record, each with its records in request order")
    func splitKeepsRequestOrder() throws {
        let stream = try ShardMapTests.stream(shards: 4)
        let quarter = UInt128.max / 4
        let keys = [3, 0, 3, 1, 0].map { HashKey(quarter * UInt128($0) + 5) }
        let split = try PutRecordsSplit(hashKeys: keys, map: ShardMap(stream))
        #expect(split.parts.map(\.shard.index) == [3, 0, 1])
        #expect(split.parts.map(\.position) == [3, 0, 1])
        #expect(split.parts.map(\.slots) == [[0, 2], [1, 4], [3]])
    }

    @Test("routing refuses an ExplicitHashKey out of range with Kinesis' message")
    func explicitHashKeyOutOfRange() {
        #expect(throws: KinesisError.self) {
            try RecordRouting.hashKey(partitionKey: "a", explicitHashKey: "340282366920938463463374607431768211456")
        }
        #expect((try? RecordRouting.hashKey(partitionKey: "a", explicitHashKey: nil)) == HashKey(partitionKey: "a"))
    }

    // MARK: - Merging (node and router)

    @Test("each record fails alone: throughput keeps its code, anything else is InternalFailure")
    func recordsFailAlone() throws {
        var merge = PutRecordsMerge(count: 4)
        merge.set(
            0,
            .written(
                shard: ShardID(index: 1),
                sequence: SequenceNumber(epoch: 1, index: LogIndex(3), slot: 0, arrivalSeconds: 0, shardIndex: 1)
            )
        )
        merge.set(1, .failed(KinesisError(.provisionedThroughputExceeded, "slow down")))
        merge.fail([2], KinesisError(.serviceUnavailable, "no leader"))
        merge.set(
            3,
            .result(ArraySlice(Self.bytes(#"{"ErrorCode":"InternalFailure","ErrorMessage":"x"}"#)), failed: true)
        )
        let (failed, results) = try Self.results(try merge.answer())
        #expect(failed == 3)
        #expect(
            results.dropFirst() == ["ProvisionedThroughputExceededException", "InternalFailure", "InternalFailure"]
        )
    }

    @Test("no record written and no leader anywhere: still an answer per record, not a failed call")
    func unavailableShardsFailPerRecord() throws {
        var merge = PutRecordsMerge(count: 2)
        merge.fail([0, 1], KinesisError(.serviceUnavailable, "no leader"))
        #expect(try Self.results(try merge.answer()).results == ["InternalFailure", "InternalFailure"])
    }

    @Test("a request-wide error fails the call only when nothing was written")
    func requestWideErrors() throws {
        var nothing = PutRecordsMerge(count: 2)
        nothing.fail([0], KinesisError.streamNotFound("s", account: "000000000000"))
        nothing.fail([1], KinesisError(.provisionedThroughputExceeded, "slow down"))
        #expect(throws: KinesisError.streamNotFound("s", account: "000000000000")) { try nothing.answer() }

        var some = nothing
        some.set(
            1,
            .result(ArraySlice(Self.bytes(#"{"SequenceNumber":"1","ShardId":"shardId-000000000000"}"#)), failed: false)
        )
        let (failed, results) = try Self.results(try some.answer())
        #expect(failed == 1)
        #expect(results == ["InternalFailure", "1"])

        // A record whose outcome is unknown may have been written: no failed call either.
        var unknown = nothing
        unknown.fail([1], .internalFailure("node 2 did not answer; the outcome is unknown, retry."))
        #expect(try Self.results(try unknown.answer()).results == ["InternalFailure", "InternalFailure"])
    }

    @Test("node results pass through byte for byte, with the encryption type")
    func passedThrough() throws {
        var merge = PutRecordsMerge(count: 1)
        merge.encryptionType = "KMS"
        merge.set(
            0,
            .result(ArraySlice(Self.bytes(#"{"SequenceNumber":"7","ShardId":"shardId-000000000002"}"#)), failed: false)
        )
        let body = try merge.answer()
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"FailedRecordCount":0,"Records":[{"SequenceNumber":"7","ShardId":"shardId-000000000002"}],"EncryptionType":"KMS"}"#
        )
    }
}
