import RillKinesis
import Testing

/// Which resource a call is authorized on, read from its body before any service runs (`AccessTarget`).
@Suite struct AccessTargetTests {
    static let arn = "arn:aws:kinesis:eu-west-1:111111111111:stream/orders"

    static func target(_ operation: KinesisOperation, _ body: String) throws -> AccessTarget {
        guard case .object(let object) = try JSONParser.parse(Array(body.utf8)) else {
            throw KinesisError(.serialization, "not an object")
        }
        return AccessTarget.of(operation, body: object)
    }

    @Test(
        "each operation names the resource AWS authorizes it on",
        arguments: [
            (
                KinesisOperation.putRecord, #"{"StreamName":"orders"}"#,
                AccessTarget.stream(StreamSelector(name: "orders"))
            ),
            (.listStreams, #"{"StreamName":"orders"}"#, .account),
            (.describeLimits, "{}", .account),
            (.getRecords, #"{"ShardIterator":"abc"}"#, .iterator("abc")),
            (.listShards, #"{"NextToken":"t"}"#, .pageToken("t")),
            (.listShards, #"{"StreamName":"orders"}"#, .stream(StreamSelector(name: "orders"))),
            (
                .subscribeToShard, #"{"ConsumerARN":"\#(arn)/consumer/c:1700000000"}"#,
                .consumer(stream: StreamARN(parsing: arn)!, name: "c", createdSeconds: 1_700_000_000)
            ),
            (
                .describeStreamConsumer, #"{"StreamARN":"\#(arn)","ConsumerName":"c"}"#,
                .consumerNamed(stream: StreamSelector(name: "orders", arn: StreamARN(parsing: arn)), name: "c")
            ),
            (
                .putResourcePolicy, #"{"ResourceARN":"\#(arn)"}"#,
                .stream(StreamSelector(name: "orders", arn: StreamARN(parsing: arn)))
            ),
            // A member of the wrong type reads as absent; the service refuses the call with the proper error.
            (.putRecord, #"{"StreamName":7}"#, .account),
        ]
    )
    func targets(operation: KinesisOperation, body: String, expected: AccessTarget) throws {
        #expect(try Self.target(operation, body) == expected)
    }

    @Test("a StreamARN wins over a StreamName, so the region and account it names are the ones authorized")
    func arnWins() throws {
        let target = try Self.target(.putRecord, #"{"StreamName":"orders","StreamARN":"\#(Self.arn)"}"#)
        #expect(target == .stream(StreamSelector(name: "orders", arn: StreamARN(parsing: Self.arn))))
    }
}
