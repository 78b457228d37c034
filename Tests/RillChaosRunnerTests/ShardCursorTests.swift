import RillChaos
import RillKinesis
import Testing

@testable import RillChaosRunner

@Suite struct ShardCursorTests {
    @Test func aPageDecodesEachRecordsDataAsItsID() throws {
        let page = try jsonObject(
            """
            {"Records":[{"SequenceNumber":"0100","Data":"\(Base64.encode(Array("w1-0".utf8)))","PartitionKey":"w1-0"},
                        {"SequenceNumber":"101","Data":"\(Base64.encode(Array("w2-7".utf8)))","PartitionKey":"w2-7"}],
             "NextShardIterator":"it","MillisBehindLatest":0}
            """
        )
        let records = try #require(ShardCursor.parse(page))
        #expect(records.map(\.id) == ["w1-0", "w2-7"])
        #expect(records.map(\.sequence.digits) == ["100", "101"])
    }

    @Test func aRecordWithoutASequenceNumberMakesThePageUnreadable() throws {
        let page = try jsonObject(#"{"Records":[{"Data":"AAAA"}],"NextShardIterator":"it"}"#)
        #expect(ShardCursor.parse(page) == nil)
    }
}
