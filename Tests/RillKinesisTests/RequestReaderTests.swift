import RillKinesis
import RillModel
import Testing

@Suite struct RequestReaderTests {
    func reader(_ json: String) throws -> RequestReader { try RequestReader(bytes: Array(json.utf8)) }

    @Test("constraint violations come out in the coral format, in member order")
    func validationFormat() throws {
        var r = try reader(#"{"StreamName": "bad name!", "ShardCount": 0}"#)
        _ = try r.string("StreamName", required: true, min: 1, max: 128, pattern: .streamName)
        _ = try r.integer("ShardCount", min: 1)
        #expect(
            throws: KinesisError(
                .validation,
                "2 validation errors detected: Value 'bad name!' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )
        ) {
            try r.finish()
        }
    }

    @Test("a missing required member reads as null")
    func required() throws {
        var r = try reader("{}")
        _ = try r.string("ShardIterator", required: true, min: 1, max: 512)
        #expect(
            throws: KinesisError(
                .validation,
                "1 validation error detected: Value null at 'shardIterator' failed to satisfy constraint: Member must not be null"
            )
        ) {
            try r.finish()
        }
    }

    @Test(
        "wrong JSON types are serialization errors",
        arguments: [
            (#"{"StreamName": 5}"#, "NUMBER_VALUE can not be converted to a String"),
            (#"{"StreamName": {}}"#, "Start of structure or map found where not expected."),
            (#"{"StreamName": []}"#, "Start of list found where not expected."),
        ]
    )
    func typeErrors(json: String, message: String) throws {
        var r = try reader(json)
        #expect(throws: KinesisError(.serialization, message)) { _ = try r.string("StreamName") }
    }

    @Test("empty and non-object bodies are refused")
    func bodies() {
        #expect(throws: KinesisError.self) { try RequestReader(bytes: []) }
        #expect(throws: KinesisError.self) { try RequestReader(bytes: Array("[1]".utf8)) }
        #expect(throws: KinesisError.self) { try RequestReader(bytes: Array("{".utf8)) }
    }

    @Test("timestamps accept integer and decimal seconds, refuse strings")
    func timestamps() throws {
        var r = try reader(#"{"A": 1700000000, "B": 1700000000.5, "C": 1.7E9, "D": "x"}"#)
        #expect(try r.timestamp("A") == 1_700_000_000_000)
        #expect(try r.timestamp("B") == 1_700_000_000_500)
        #expect(try r.timestamp("C") == 1_700_000_000_000)
        #expect(throws: KinesisError.self) { _ = try r.timestamp("D") }
    }

    @Test("blobs report their decoded size the Java way")
    func blobs() throws {
        var r = try reader(#"{"Data": "AAAA"}"#)
        #expect(try r.blob("Data", max: 2) == [0, 0, 0])
        #expect(
            throws: KinesisError(
                .validation,
                "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 2"
            )
        ) {
            try r.finish()
        }
    }

    @Test("StreamARN and StreamName must agree; one of them is needed")
    func selectors() throws {
        var both = try reader(#"{"StreamName": "a", "StreamARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/a"}"#)
        let selector = try both.requireStream()
        #expect(selector.arn?.region == "eu-west-1")
        var mismatch = try reader(
            #"{"StreamName": "a", "StreamARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/b"}"#
        )
        #expect(throws: KinesisError.self) { _ = try mismatch.requireStream() }
        var neither = try reader("{}")
        #expect(throws: KinesisError.self) { _ = try neither.requireStream() }
    }
}
