import RillChaos
import RillKinesis
import Testing

@testable import RillChaosRunner

@Suite struct WriteClassifierTests {
    private func writes(_ events: [HistoryEvent]) -> [WriteEvent] {
        events.compactMap { if case .write(let write) = $0 { write } else { nil } }
    }

    @Test func putRecordsAnswersPerRecordInOrder() throws {
        let body = try jsonObject(
            """
            {"FailedRecordCount":2,"Records":[
              {"SequenceNumber":"49000000000000000000000000000000000000000000000001","ShardId":"shardId-000000000001"},
              {"ErrorCode":"InternalFailure","ErrorMessage":"node 2 did not answer"},
              {"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"slow down"}]}
            """
        )
        let events = writes(
            WriteClassifier.events(for: ["a", "b", "c"], result: .ok(body), time: 5, process: 2, batched: true)
        )
        #expect(events.map(\.id) == ["a", "b", "c"])
        #expect(events.map(\.outcome) == [.ok, .info, .fail])
        #expect(events[0].shard == "shardId-000000000001")
        #expect(events[0].sequence == DecimalSequenceNumber("49000000000000000000000000000000000000000000000001"))
        #expect(events[1].error == "InternalFailure")
        #expect(events.allSatisfy { $0.time == 5 && $0.process == 2 })
    }

    @Test func aPutRecordsReplyOfTheWrongLengthLeavesEveryRecordIndeterminate() throws {
        let body = try jsonObject(#"{"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"}]}"#)
        let events = writes(
            WriteClassifier.events(for: ["a", "b"], result: .ok(body), time: 0, process: 1, batched: true)
        )
        #expect(events.map(\.outcome) == [.info, .info])
    }

    @Test func putRecordNeedsBothShardAndSequence() throws {
        let good = try jsonObject(#"{"SequenceNumber":"42","ShardId":"shardId-000000000003"}"#)
        let bad = try jsonObject(#"{"ShardId":"shardId-000000000003"}"#)
        #expect(
            writes(WriteClassifier.events(for: ["a"], result: .ok(good), time: 0, process: 1, batched: false))[0]
                .outcome == .ok
        )
        #expect(
            writes(WriteClassifier.events(for: ["a"], result: .ok(bad), time: 0, process: 1, batched: false))[0].outcome
                == .info
        )
    }

    @Test(arguments: [
        (KinesisResult.error(code: "ResourceNotFoundException", message: ""), WriteOutcome.fail),
        (.error(code: "ValidationException", message: ""), .fail),
        (.error(code: "InternalFailureException", message: ""), .info),
        (.error(code: "ServiceUnavailable", message: ""), .info),
        (.failed(.notConnected("refused")), .fail),
        (.failed(.timedOut), .info),
        (.failed(.connectionLost("reset")), .info),
    ])
    func wholeCallFailuresApplyToEveryRecord(result: KinesisResult, outcome: WriteOutcome) {
        let events = writes(
            WriteClassifier.events(for: ["a", "b"], result: result, time: 0, process: 1, batched: true)
        )
        #expect(events.map(\.outcome) == [outcome, outcome])
        #expect(events.allSatisfy { $0.error != nil && $0.shard == nil && $0.sequence == nil })
    }
}
