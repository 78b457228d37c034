import RillKinesis
import RillRouting
import Testing

@Suite struct PutRecordsAnswerTests {
    @Test("a node's answer is read as byte ranges, each marked failed or not")
    func answersAreSliced() throws {
        let body = Array(
            (#"{"FailedRecordCount":1,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"},"#
                + #"{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"slow down"}],"EncryptionType":"KMS"}"#)
                .utf8
        )
        let answer = try #require(PutRecordsAnswer(body))
        #expect(answer.results.map(\.failed) == [false, true])
        #expect(answer.encryptionType == "KMS")
        #expect(
            String(decoding: body[answer.results[0].range], as: UTF8.self)
                == #"{"SequenceNumber":"1","ShardId":"shardId-000000000000"}"#
        )
        #expect(PutRecordsAnswer(Array("not json".utf8)) == nil)
    }
}
