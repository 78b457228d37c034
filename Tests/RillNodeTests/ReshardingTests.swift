import RillKinesis
import RillModel
import RillNode
import Testing

@Suite struct ReshardingTests {
    func openShards(_ harness: NodeHarness, _ stream: String) async throws -> [JSONObject] {
        let reply = try await harness.call(
            .listShards,
            #"{"StreamName": "\#(stream)", "ShardFilter": {"Type": "AT_LATEST"}}"#
        )
        return (reply["Shards"]?.array ?? []).compactMap(\.object)
    }

    @Test("a split seals the parent: its readers reach the end with ChildShards, new writes go to a child")
    func split() async throws {
        let harness = try await NodeHarness.start()
        try await harness.call(.createStream, #"{"StreamName": "s", "ShardCount": 1}"#)
        try await harness.call(.putRecord, #"{"StreamName": "s", "PartitionKey": "a", "Data": "AA=="}"#)
        try await harness.call(
            .splitShard,
            #"{"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "170141183460469231731687303715884105728"}"#
        )
        let open = try await openShards(harness, "s")
        #expect(open.compactMap { $0["ShardId"]?.string } == ["shardId-000000000001", "shardId-000000000002"])
        #expect(open.allSatisfy { $0["ParentShardId"]?.string == "shardId-000000000000" })
        let put = try await harness.call(.putRecord, #"{"StreamName": "s", "PartitionKey": "a", "Data": "AQ=="}"#)
        #expect(put["ShardId"]?.string != "shardId-000000000000")
        let iterator = try await harness.call(
            .getShardIterator,
            #"{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}"#
        )
        let read = try await harness.call(
            .getRecords,
            #"{"ShardIterator": "\#(iterator["ShardIterator"]?.string ?? "")"}"#
        )
        #expect(read["Records"]?.array?.count == 1)
        #expect(read["NextShardIterator"] == nil)
        #expect(read["ChildShards"]?.array?.count == 2)
        try await harness.cleanUp()
    }

    @Test("SplitShard refuses keys outside AWS's bound and unknown shards")
    func splitErrors() async throws {
        let harness = try await NodeHarness.start()
        try await harness.call(.createStream, #"{"StreamName": "s", "ShardCount": 1}"#)
        let low = await harness.failure(
            .splitShard,
            #"{"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "1"}"#
        )
        #expect(low?.code == .invalidArgument)
        let missing = await harness.failure(
            .splitShard,
            #"{"StreamName": "s", "ShardToSplit": "shardId-000000000009", "NewStartingHashKey": "100"}"#
        )
        #expect(missing?.code == .resourceNotFound)
        try await harness.cleanUp()
    }

    @Test("merging non-adjacent shards fails; adjacent ones make one child with two parents")
    func merge() async throws {
        let harness = try await NodeHarness.start()
        try await harness.call(.createStream, #"{"StreamName": "s", "ShardCount": 3}"#)
        let apart = await harness.failure(
            .mergeShards,
            #"{"StreamName": "s", "ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000002"}"#
        )
        #expect(apart?.code == .invalidArgument)
        try await harness.call(
            .mergeShards,
            #"{"StreamName": "s", "ShardToMerge": "shardId-000000000001", "AdjacentShardToMerge": "shardId-000000000000"}"#
        )
        let open = try await openShards(harness, "s")
        let child = open.first { $0["ShardId"]?.string == "shardId-000000000003" }
        #expect(child?["ParentShardId"]?.string == "shardId-000000000001")
        #expect(child?["AdjacentParentShardId"]?.string == "shardId-000000000000")
        #expect(child?["HashKeyRange"]?.object?["StartingHashKey"]?.string == "0")
        try await harness.cleanUp()
    }

    @Test(
        "UpdateShardCount ends with the CreateStream ranges of the target count",
        arguments: [(2, 4), (4, 2), (3, 5), (5, 3), (4, 7)]
    )
    func updateShardCount(from: Int, to: Int) async throws {
        let harness = try await NodeHarness.start()
        try await harness.call(.createStream, #"{"StreamName": "s", "ShardCount": \#(from)}"#)
        try await harness.call(
            .updateShardCount,
            #"{"StreamName": "s", "TargetShardCount": \#(to), "ScalingType": "UNIFORM_SCALING"}"#
        )
        let open = try await openShards(harness, "s")
        let ends = open.compactMap { $0["HashKeyRange"]?.object?["EndingHashKey"]?.string }
            .sorted { $0.count != $1.count ? $0.count < $1.count : $0 < $1 }
        #expect(ends == HashRange.evenSplit(count: to).map(\.end.description))
        let tooFar = await harness.failure(
            .updateShardCount,
            #"{"StreamName": "s", "TargetShardCount": \#(to * 3), "ScalingType": "UNIFORM_SCALING"}"#
        )
        #expect(tooFar?.code == .invalidArgument)
        try await harness.cleanUp()
    }

    @Test("consumers register, describe by ARN, list, and deregister")
    func consumers() async throws {
        let harness = try await NodeHarness.start()
        try await harness.call(.createStream, #"{"StreamName": "s", "ShardCount": 1}"#)
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        let registered = try await harness.call(
            .registerStreamConsumer,
            #"{"StreamARN": "\#(arn)", "ConsumerName": "c"}"#
        )
        let consumerARN = registered["Consumer"]?.object?["ConsumerARN"]?.string ?? ""
        #expect(consumerARN.hasPrefix(arn + "/consumer/c:"))
        let again = await harness.failure(.registerStreamConsumer, #"{"StreamARN": "\#(arn)", "ConsumerName": "c"}"#)
        #expect(again?.code == .resourceInUse)
        let described = try await harness.call(.describeStreamConsumer, #"{"ConsumerARN": "\#(consumerARN)"}"#)
        #expect(described["ConsumerDescription"]?.object?["StreamARN"]?.string == arn)
        try await harness.call(.deregisterStreamConsumer, #"{"StreamARN": "\#(arn)", "ConsumerName": "c"}"#)
        let gone = await harness.failure(.describeStreamConsumer, #"{"ConsumerARN": "\#(consumerARN)"}"#)
        #expect(gone?.code == .resourceNotFound)
        try await harness.cleanUp()
    }
}
