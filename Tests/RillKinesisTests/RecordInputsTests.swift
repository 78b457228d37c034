import RillKinesis
import Testing

/// Typed inputs of the records family: read and checked without a node.
@Suite struct RecordInputsTests {
    func reader(_ json: String) throws -> RequestReader { try RequestReader(bytes: Array(json.utf8)) }

    @Test("PutRecord reads its data, keys and stream")
    func putRecord() throws {
        var r = try reader(#"{"StreamName":"s","Data":"AAE=","PartitionKey":"k","ExplicitHashKey":"7"}"#)
        let input = try PutRecordInput(reading: &r)
        #expect(input.data == [0, 1])
        #expect(input.partitionKey == "k")
        #expect(input.explicitHashKey == "7")
        #expect(input.selector.name == "s")
    }

    @Test("PutRecord without data or partition key, or with a key too long, is a ValidationException")
    func putRecordViolations() throws {
        var missing = try reader(#"{"StreamName":"s"}"#)
        #expect(throws: KinesisError.self) { _ = try PutRecordInput(reading: &missing) }
        let long = String(repeating: "k", count: 257)
        var tooLong = try reader(#"{"StreamName":"s","Data":"AA==","PartitionKey":"\#(long)"}"#)
        do {
            _ = try PutRecordInput(reading: &tooLong)
            Issue.record("expected a ValidationException")
        } catch {
            #expect(error.code == .validation)
            #expect(error.message?.contains("partitionKey") == true)
        }
    }

    @Test("GetShardIterator reads its type, and refuses one the model does not know")
    func getShardIterator() throws {
        var r = try reader(
            #"{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1.5}"#
        )
        let input = try GetShardIteratorInput(reading: &r)
        #expect(input.type == .atTimestamp)
        #expect(input.timestamp == 1500)
        var unknown = try reader(#"{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"NOW"}"#)
        #expect(throws: KinesisError.self) { _ = try GetShardIteratorInput(reading: &unknown) }
    }

    @Test("GetRecords defaults its limit to 10,000 and refuses one over it")
    func getRecords() throws {
        var r = try reader(#"{"ShardIterator":"abc"}"#)
        #expect(try GetRecordsInput(reading: &r).limit == 10_000)
        var over = try reader(#"{"ShardIterator":"abc","Limit":10001}"#)
        #expect(throws: KinesisError.self) { _ = try GetRecordsInput(reading: &over) }
    }
}
