import RillKinesis
import RillModel
import RillRouting
import Testing

@Suite struct ShardMapTests {
    static func stream(shards: Int) throws -> StreamMetadata {
        var catalog = Catalog()
        let ns = Namespace(account: "000000000000", region: "us-east-1")
        let create = CreateStreamCommand(
            namespace: ns,
            name: "s",
            id: "id",
            shardCount: shards,
            mode: .provisioned,
            createdMillis: 5,
            epoch: 7,
            tags: [:],
            maxRecordSizeKiB: 1024
        )
        // The catalog places shards only once it has members (it refuses CreateStream before).
        _ = catalog.apply(.setMembers([ClusterMember(id: 1, zone: "az-a")]), at: LogIndex(1))
        _ = catalog.apply(.createStream(create), at: LogIndex(2))
        return try #require(catalog.stream("s", in: ns))
    }

    @Test("a key's shard is the one the catalog's linear search finds, edges of every range included")
    func agreesWithTheCatalog() throws {
        let stream = try Self.stream(shards: 7)
        let map = ShardMap(stream)
        var keys = stream.shards.flatMap { [$0.hashRange.start, $0.hashRange.end] }
        var random = SplitMix64(seed: 42)
        for _ in 0..<2_000 { keys.append(HashKey(UInt128(random.next()) << 64 | UInt128(random.next()))) }
        for key in keys {
            #expect(map.shard(for: key)?.index == stream.openShard(for: key)?.index)
            #expect(map.shard(for: key) != nil)
        }
    }

    @Test("a closed shard's range routes nowhere until its children are open")
    func closedShardsAreSkipped() throws {
        var stream = try Self.stream(shards: 3)
        stream.shards[1].closedMillis = 9
        let map = ShardMap(stream)
        #expect(map.shard(for: stream.shards[1].hashRange.start) == nil)
        #expect(map.shard(for: stream.shards[0].hashRange.end)?.index == 0)
        #expect(map.shard(for: HashKey.max)?.index == 2)
    }

    @Test("a map keeps routing right for later versions of the stream with as many shards (new replicas, tags)")
    func positionsOutliveMetadataChanges() throws {
        var stream = try Self.stream(shards: 5)
        let map = ShardMap(stream)
        stream.shards[2].replicas = [4, 5, 6]
        stream.tags = ["a": "b"]
        for shard in stream.shards {
            let position = try #require(map.position(for: shard.hashRange.start))
            #expect(stream.shards[position].index == shard.index)
            #expect(stream.shards[position].replicas == shard.replicas)
        }
    }
}
