import Foundation
import RillKinesis
import RillModel
import Testing

/// A shard's voters come from placement and nowhere else (issue 14): the catalog refuses to create shards it
/// cannot place, heals the unplaced shards older builds made, and the audit sees every way a group can break
/// the rule.
@Suite struct PlacementAtFormationTests {
    private let founders = [
        ClusterMember(id: 1, zone: "az-a"), ClusterMember(id: 2, zone: "az-b"), ClusterMember(id: 3, zone: "az-c"),
    ]
    private let namespace = Namespace(account: "000000000000", region: "us-east-1")

    private func create(_ name: String, shards: Int = 2) -> CreateStreamCommand {
        CreateStreamCommand(
            namespace: namespace,
            name: name,
            id: "\(name)-id",
            shardCount: shards,
            mode: .provisioned,
            createdMillis: 0,
            epoch: 1,
            tags: [:],
            maxRecordSizeKiB: 1024
        )
    }

    /// A CreateStream entry as builds before this fix wrote it: no `requiresPlacement`.
    private func legacyCreate(_ name: String, shards: Int = 2) throws -> CatalogCommand {
        var object =
            try JSONSerialization.jsonObject(
                with: JSONEncoder().encode(CatalogCommand.createStream(create(name, shards: shards)))
            )
            as! [String: Any]
        var inner = object["createStream"] as! [String: Any]
        var command = inner["_0"] as! [String: Any]
        command.removeValue(forKey: "requiresPlacement")
        inner["_0"] = command
        object["createStream"] = inner
        return try JSONDecoder().decode(CatalogCommand.self, from: JSONSerialization.data(withJSONObject: object))
    }

    private func failure(_ result: Result<Void, KinesisError>) -> KinesisError? {
        if case .failure(let error) = result { return error }
        return nil
    }

    @Test("before the founders are members, CreateStream is refused with a retryable error on every replica")
    func refusedBeforeMembers() {
        var catalog = Catalog()
        let error = failure(catalog.apply(.createStream(create("early")), at: LogIndex(1)))
        #expect(error?.code == .limitExceeded)
        #expect(catalog.stream("early", in: namespace) == nil)
        #expect(!catalog.canPlace)
        _ = catalog.apply(.setMembers(founders), at: LogIndex(2))
        #expect(failure(catalog.apply(.createStream(create("early")), at: LogIndex(3))) == nil)
        let shards = catalog.stream("early", in: namespace)?.shards ?? []
        #expect(shards.count == 2)
        for shard in shards { #expect(Set(shard.replicas ?? []) == [1, 2, 3]) }
        #expect(PlacementAudit.check(catalog: catalog).isEmpty)
    }

    @Test("a reshard before members exist is refused, and a reshard after places its children")
    func reshardPlacesChildren() {
        var catalog = Catalog()
        _ = catalog.apply(.setMembers(founders), at: LogIndex(1))
        _ = catalog.apply(.createStream(create("s", shards: 1)), at: LogIndex(2))
        let half = HashRange.evenSplit(count: 2)
        let reshard = ReshardCommand(
            namespace: namespace,
            name: "s",
            parents: [.init(index: 0, sealIndex: 5)],
            children: half.map { .init(startingHashKey: $0.start.description, endingHashKey: $0.end.description) },
            epoch: 2,
            millis: 1
        )
        #expect(failure(catalog.apply(.reshard(reshard), at: LogIndex(3))) == nil)
        let children = (catalog.stream("s", in: namespace)?.shards ?? []).filter(\.isOpen)
        #expect(children.count == 2)
        for child in children { #expect((child.replicas ?? []).count == 3) }
        // A stream from an older build's log, before any member: its reshard is refused until members exist.
        var early = Catalog()
        _ = try? early.apply(legacyCreate("s", shards: 1), at: LogIndex(1))
        #expect(failure(early.apply(.reshard(reshard), at: LogIndex(2)))?.code == .limitExceeded)
    }

    @Test("an unplaced shard from an older build's log replays unplaced, and the heal places it from one kept copy")
    func legacyUnplacedShardsHeal() throws {
        var catalog = Catalog()
        #expect(failure(catalog.apply(try legacyCreate("old"), at: LogIndex(1))) == nil)
        #expect(catalog.unplacedShards.count == 2)
        #expect(PlacementAudit.check(catalog: catalog).count == 2)
        // Such a shard is never opened, on any node.
        for shard in catalog.stream("old", in: namespace)?.shards ?? [] {
            #expect(ReplicaPlan.decide(shard, me: 1, mode: .cluster) == .unplaced)
        }
        _ = catalog.apply(.setMembers(founders), at: LogIndex(2))
        #expect(failure(catalog.apply(.healUnplacedShards, at: LogIndex(3))) == nil)
        #expect(catalog.unplacedShards.isEmpty)
        for shard in catalog.stream("old", in: namespace)?.shards ?? [] {
            let replicas = try #require(shard.replicas)
            #expect(Set(replicas) == [1, 2, 3])
            #expect(shard.healedFrom == replicas[0])
            #expect(shard.initialReplicas == [replicas[0]])
            #expect(shard.leaving == [], "the group grows from the kept copy as a move")
            // The kept copy opens as it is; the others set theirs aside and start empty, not voting.
            for node in replicas {
                let decision = ReplicaPlan.decide(shard, me: node, mode: .cluster)
                #expect(decision == .open(voters: [replicas[0]], setAsideOlderCopy: node != replicas[0]))
            }
        }
        // The heal spreads the kept copies over the nodes like any placement.
        let kept = Set((catalog.stream("old", in: namespace)?.shards ?? []).compactMap(\.healedFrom))
        #expect(kept.count == 2)
        _ = catalog.apply(.finishMove(streamID: "old-id", shard: 0), at: LogIndex(4))
        _ = catalog.apply(.finishMove(streamID: "old-id", shard: 1), at: LogIndex(5))
        #expect(PlacementAudit.check(catalog: catalog).isEmpty)
    }

    @Test("a one-node cluster holds every shard alone by choice, placed or not")
    func singleNodeIsExplicit() throws {
        var catalog = Catalog()
        _ = catalog.apply(try legacyCreate("old"), at: LogIndex(1))
        for shard in catalog.stream("old", in: namespace)?.shards ?? [] {
            #expect(ReplicaPlan.decide(shard, me: 7, mode: .singleNode) == .open(voters: [7], setAsideOlderCopy: false))
        }
    }

    @Test("the audit names a group led alone, a group with other voters, a stray copy and a missing one")
    func auditFindsBrokenGroups() {
        var catalog = Catalog()
        _ = catalog.apply(.setMembers(founders), at: LogIndex(1))
        _ = catalog.apply(.createStream(create("s", shards: 3)), at: LogIndex(2))
        let shards = catalog.stream("s", in: namespace)?.shards ?? []
        let healthy = shards.map {
            PlacementAudit.GroupView(streamID: "s-id", shard: $0.index, voters: $0.replicas ?? [])
        }
        #expect(PlacementAudit.check(catalog: catalog, node: 1, groups: healthy, settled: true).isEmpty)

        let alone = [PlacementAudit.GroupView(streamID: "s-id", shard: 0, voters: [1])]
        let found = PlacementAudit.check(catalog: catalog, node: 1, groups: alone, settled: true)
        #expect(found.contains { $0.shard == 0 && $0.problem.contains("voters [1]") })
        #expect(found.filter { $0.problem == "is placed here but not open" }.count == 2)

        let other = [PlacementAudit.GroupView(streamID: "s-id", shard: 1, voters: [1, 2, 4])]
        #expect(PlacementAudit.check(catalog: catalog, node: 1, groups: other, settled: false).count == 1)

        // Agreement: nodes 1 and 2 report different voters for shard 2.
        let disagreeing = PlacementAudit.agreement(
            catalog: catalog,
            views: [
                1: [PlacementAudit.GroupView(streamID: "s-id", shard: 2, voters: [1, 2, 3])],
                2: [PlacementAudit.GroupView(streamID: "s-id", shard: 2, voters: [2])],
            ]
        )
        #expect(disagreeing.count == 1)
    }

    @Test("the audit flags a catalog whose placement covers fewer zones than the members do")
    func auditChecksZones() {
        var catalog = Catalog()
        _ = catalog.apply(.setMembers(founders + [ClusterMember(id: 4, zone: "az-a")]), at: LogIndex(1))
        _ = catalog.apply(.createStream(create("s", shards: 8)), at: LogIndex(2))
        #expect(PlacementAudit.check(catalog: catalog).isEmpty)
    }
}
