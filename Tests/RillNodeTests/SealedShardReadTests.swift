import RillKinesis
import RillModel
import Testing

@testable import RillNode

/// What a sealed parent serves. Found by `rill chaos --faults reshard,powerloss`: after a restart, a parent
/// whose catalog lagged took appends after its seal; they were routed again to a child, yet readers of the
/// parent still got them, so every consumer read them twice.
@Suite struct SealedShardReadTests {
    @Test("a record committed after a parent's seal is never served; the parent's reader ends at the seal")
    func recordsAfterTheSealAreNotServed() async throws {
        let harness = try await NodeHarness.start()
        try await harness.call(.createStream, #"{"StreamName": "s", "ShardCount": 1}"#)
        try await harness.call(.putRecord, #"{"StreamName": "s", "PartitionKey": "a", "Data": "AA=="}"#)
        try await harness.call(
            .splitShard,
            #"{"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "170141183460469231731687303715884105728"}"#
        )
        let stream = try #require(harness.node.metadata.catalog.allStreams.first)
        let parent = try #require(harness.node.localReplica(streamID: stream.id, shard: 0))
        let seal = try #require(parent.sealIndex)
        // As a parent whose catalog lagged after a restart: open, it takes an append behind its seal.
        parent.setSealed(at: nil)
        let late = try await parent.append(
            RecordBatch(records: [RecordBatch.Record(partitionKey: "late", data: [9])]),
            stampMillis: harness.clock.nowMillis()
        )
        #expect(late > seal)
        parent.setSealed(at: seal)

        let iterator = try await harness.call(
            .getShardIterator,
            #"{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}"#
        )
        let read = try await harness.call(
            .getRecords,
            #"{"ShardIterator": "\#(iterator["ShardIterator"]?.string ?? "")"}"#
        )
        let keys = (read["Records"]?.array ?? []).compactMap { $0.object?["PartitionKey"]?.string }
        #expect(keys == ["a"])
        #expect(read["NextShardIterator"] == nil)
        #expect(read["ChildShards"]?.array?.count == 2)
        try await harness.cleanUp()
    }

    @Test("a one-node cluster's catalog is current from the start: no seal waits for a barrier")
    func aLoneNodeIsCurrent() async throws {
        let harness = try await NodeHarness.start()
        #expect(harness.node.barrier.isCurrent)
        try await harness.cleanUp()
    }
}
