import RillKinesis
import RillModel
import Testing

/// Which shards `rill tail` reads when: children only after all their parents are finished.
@Suite struct ShardLineageTests {
    typealias Shard = ShardLineage.Shard

    @Test("from trim-horizon a split's children wait for the parent; a merge's child for both parents")
    func trimHorizon() {
        var lineage = ShardLineage(start: .trimHorizon)
        let shards = [
            Shard(id: "s0", isOpen: false), Shard(id: "s1", isOpen: false),
            Shard(id: "s2", parents: ["s0"], isOpen: false), Shard(id: "s3", parents: ["s0"]),
            Shard(id: "s4", parents: ["s1", "s2"]),
        ]
        #expect(lineage.listed(shards).map(\.shardID) == ["s0", "s1"])
        #expect(lineage.listed(shards).isEmpty)  // listing again starts nothing twice
        let afterS0 = lineage.finished("s0")
        #expect(afterS0 == [.init(shardID: "s2", from: .trimHorizon), .init(shardID: "s3", from: .trimHorizon)])
        #expect(lineage.finished("s2").isEmpty)  // s4 still waits for s1
        #expect(lineage.finished("s1").map(\.shardID) == ["s4"])
        #expect(lineage.reading == ["s3", "s4"])
    }

    @Test("from latest only open shards are read; children found later start at their beginning")
    func latest() {
        var lineage = ShardLineage(start: .latest)
        let reads = lineage.listed([
            Shard(id: "old", isOpen: false), Shard(id: "a", parents: ["old"]), Shard(id: "b", parents: ["old"]),
        ])
        #expect(reads == [.init(shardID: "a", from: .latest), .init(shardID: "b", from: .latest)])
        let children = lineage.finished("a", children: [Shard(id: "c", parents: ["a", "b"])])
        #expect(children.isEmpty)  // c is a merge of a and b: b is not finished
        #expect(lineage.finished("b") == [.init(shardID: "c", from: .trimHorizon)])
    }

    @Test("from a timestamp every shard, later ones too, starts at the timestamp; an expired parent counts as finished")
    func timestamp() {
        var lineage = ShardLineage(start: .atTimestamp(1_700_000_000))
        let reads = lineage.listed([Shard(id: "child", parents: ["expired"])])
        #expect(reads == [.init(shardID: "child", from: .atTimestamp(1_700_000_000))])
        let later = lineage.listed([
            Shard(id: "child", parents: ["expired"]), Shard(id: "grandchild", parents: ["child"]),
        ])
        #expect(later.isEmpty)
        #expect(lineage.finished("child") == [.init(shardID: "grandchild", from: .atTimestamp(1_700_000_000))])
    }
}
