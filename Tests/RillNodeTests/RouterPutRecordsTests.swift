import RillKinesis
import RillModel
import Testing

@testable import RillNode

@Suite struct RouterPutRecordsTests {
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

    @Test("records are hashed where they stand and sent on byte for byte, in the order asked")
    func slicedBodiesSplitByteForByte() throws {
        let body = Self.bytes(
            #"{"StreamName":"s","Records":[{"Data":"YQ==","PartitionKey":"a"},{"PartitionKey":"k\"q","Data":"Yg=="},"#
                + #"{"Data":"Yw==","PartitionKey":"c","ExplicitHashKey":"17"}, {"Data":"ZA==", "PartitionKey":"é"}]}"#)
        let split = try #require(PutRecordsSplit(body))
        #expect(split.selector.name == "s")
        #expect(split.hashKeys == [HashKey(partitionKey: "a"), HashKey(partitionKey: "k\"q"), HashKey(17), HashKey(partitionKey: "é")])
        guard case .raw = split.records[0] else { Issue.record("a plain body was not sliced"); return }
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
                + #"{"Data":"Yg==","PartitionKey":"b","ExplicitHashKey":"x"}]}"#)
        let split = try #require(PutRecordsSplit(body))
        #expect(split.selector.name == "s")
        #expect(split.hashKeys == [HashKey(partitionKey: "a"), nil])
        guard case .decoded = split.records[0] else { Issue.record("an unexpected member was sliced"); return }
        var r = try RequestReader(bytes: split.subRequest([1]))
        #expect(try r.string("StreamARN") == "arn:aws:kinesis:us-east-1:000000000000:stream/s")
        #expect(try Self.records(split.subRequest([1])).1.map(\.1) == ["b"])
    }

    @Test("bodies that name no stream or hold no records are not split", arguments: [
        #"{"Records":[{"Data":"YQ==","PartitionKey":"a"}]}"#, #"{"StreamName":"s","Records":[]}"#, #"{"StreamName":"s"}"#,
        #"{"StreamName":"s","Records":[{"Data":"YQ=="}]}"#, "not json",
    ])
    func unroutableBodiesAreNotSplit(_ text: String) {
        #expect(PutRecordsSplit(Self.bytes(text)) == nil)
    }

    @Test("answers are merged in request order, with each failed shard's records failed and counted")
    func answersMergeInRequestOrder() throws {
        let first = try #require(
            PutRecordsAnswer(
                Self.bytes(
                    #"{"FailedRecordCount":1,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"},"#
                        + #"{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"slow down"}],"EncryptionType":"KMS"}"#)))
        #expect(first.failed == [false, true])
        let second = try #require(
            PutRecordsAnswer(Self.bytes(#"{"FailedRecordCount":0,"Records":[{"SequenceNumber":"2","ShardId":"shardId-000000000001"}]}"#)))
        let response = PutRecordsAnswer.merged(
            count: 5, answers: [([3, 0], first), ([4], second)], failures: [1: .internalFailure(), 2: .internalFailure()])
        var r = try RequestReader(bytes: response.body)
        #expect(try r.integer("FailedRecordCount") == 3)
        #expect(try r.string("EncryptionType") == "KMS")
        let items = try #require(try r.array("Records"))
        let codes = try items.map { item -> String in
            guard case .object(let object) = item else { return "?" }
            return try r.string("SequenceNumber", in: object) ?? r.string("ErrorCode", in: object) ?? "?"
        }
        #expect(codes == ["ProvisionedThroughputExceededException", "InternalFailure", "InternalFailure", "1", "2"])
    }
}
