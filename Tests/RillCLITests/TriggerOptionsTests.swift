import Foundation
import NIOCore
import NIOPosix
import RillKinesis
import Testing

@testable import RillCLI

/// How `rill trigger` reads its options, writes its on-failure records, and talks to a handler's process.
@Suite struct TriggerOptionsTests {
    @Test("--handler FILE.py:FUNCTION splits at the last colon; the function must be an identifier")
    func handlerSplit() {
        let split = TriggerCommand.splitHandler("/tmp/a:b/fn.py:lambda_handler")
        #expect(split?.file == "/tmp/a:b/fn.py" && split?.function == "lambda_handler")
        #expect(TriggerCommand.splitHandler("fn.py") == nil)
        #expect(TriggerCommand.splitHandler("fn.py:") == nil)
        #expect(TriggerCommand.splitHandler("fn.py:a.b") == nil)
    }

    @Test("--on-failure is file:PATH or a stream (a stream ARN names it after the last slash)")
    func destination() {
        guard case .file("/tmp/x.jsonl")? = FailureDestination("file:/tmp/x.jsonl") else {
            Issue.record("file destination")
            return
        }
        guard case .stream("dead")? = FailureDestination("arn:aws:kinesis:us-east-1:000000000000:stream/dead") else {
            Issue.record("stream ARN destination")
            return
        }
        guard case .stream("dead")? = FailureDestination("dead") else {
            Issue.record("stream destination")
            return
        }
        #expect(FailureDestination("file:") == nil)
        #expect(FailureDestination("s3://bucket") == nil)
    }

    @Test("--invoke-url keeps the path; only plain http")
    func invokeURL() {
        let url = InvokeURL("http://127.0.0.1:9000/2015-03-31/functions/function/invocations")
        #expect(url?.endpoint.port == 9000 && url?.path == "/2015-03-31/functions/function/invocations")
        #expect(InvokeURL("http://127.0.0.1:9000")?.path == "/")
        #expect(InvokeURL("https://example.com/x") == nil)
        #expect(InvokeURL("127.0.0.1:9000") == nil)
    }

    @Test("an on-failure record names the batch as Lambda does and keeps the records")
    func failureRecord() throws {
        let records = [
            ShardTrigger.Record(sequenceNumber: "7", partitionKey: "k", data: [0x61], arrivalMillis: 1_000),
            ShardTrigger.Record(sequenceNumber: "9", partitionKey: "k", data: [0x62], arrivalMillis: 2_000),
        ]
        let line = FailureDestination.record(
            ShardTrigger.Discard(records: records, condition: .retryAttemptsExhausted, invocations: 3),
            shardID: "shardId-000000000001",
            streamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/s",
            region: "us-east-1",
            functionName: "f",
            nowMillis: 0
        )
        guard case .object(let object) = try JSONParser.parse(line),
            case .object(let info)? = object["KinesisBatchInfo"], case .object(let context)? = object["requestContext"],
            case .object(let payload)? = object["payload"], case .array(let events)? = payload["Records"]
        else {
            Issue.record("shape")
            return
        }
        #expect(info["startSequenceNumber"] == .string("7") && info["endSequenceNumber"] == .string("9"))
        #expect(info["batchSize"] == .number("2") && info["shardId"] == .string("shardId-000000000001"))
        #expect(context["condition"] == .string("RetryAttemptsExhausted"))
        #expect(context["functionArn"] == .string("arn:aws:lambda:us-east-1:123456789012:function:f"))
        #expect(events.count == 2)
    }

    @Test("a command's answer is its output; a line-framed host answers line by line")
    func childProcess() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let deadline = NIODeadline.now() + .seconds(10)
        let cat = try await ChildProcess.spawn(
            ["/bin/sh", "-c", "tr a-z A-Z"],
            framing: .untilEOF,
            passStandardOutput: false,
            on: group
        )
        #expect(try await cat.exchange(Array("abc".utf8), closeInput: true, deadline: deadline) == Array("ABC".utf8))
        #expect(await cat.stop(kill: false) == 0)
        let lines = try await ChildProcess.spawn(
            ["/bin/sh", "-c", "while read line; do echo \"<$line>\"; done"],
            framing: .lines,
            passStandardOutput: false,
            on: group
        )
        #expect(try await lines.exchange(Array("a\n".utf8), closeInput: false, deadline: deadline) == Array("<a>".utf8))
        #expect(try await lines.exchange(Array("b\n".utf8), closeInput: false, deadline: deadline) == Array("<b>".utf8))
        #expect(await lines.stop(kill: false) == 0)
        let stuck = try await ChildProcess.spawn(
            ["/bin/sh", "-c", "sleep 30"],
            framing: .lines,
            passStandardOutput: false,
            on: group
        )
        await #expect(throws: InvocationTimedOut.self) {
            try await stuck.exchange(
                Array("x\n".utf8),
                closeInput: false,
                deadline: NIODeadline.now() + .milliseconds(200)
            )
        }
        #expect(await stuck.stop(kill: false) == nil, "killed by the timeout")
        try await group.shutdownGracefully()
    }
}
