import RillKinesis
import RillModel
import Testing

/// Placement over members and the catalog's membership commands (`Catalog+Members.swift`).
@Suite struct MembershipCatalogTests {
    private let founders = [
        ClusterMember(id: 1, zone: "az-a"), ClusterMember(id: 2, zone: "az-b"), ClusterMember(id: 3, zone: "az-c"),
    ]
    private let namespace = Namespace(account: "000000000000", region: "us-east-1")

    private func catalog(members: [ClusterMember], shards: Int) -> Catalog {
        var catalog = Catalog()
        var index: UInt64 = 1
        func apply(_ command: CatalogCommand) {
            _ = catalog.apply(command, at: LogIndex(index))
            index += 1
        }
        apply(.setMembers(members))
        apply(
            .createStream(
                CreateStreamCommand(
                    namespace: namespace,
                    name: "s",
                    id: "s-id",
                    shardCount: shards,
                    mode: .provisioned,
                    createdMillis: 0,
                    epoch: 1,
                    tags: [:],
                    maxRecordSizeKiB: 1024
                )
            )
        )
        return catalog
    }

    private func succeeded(_ result: Result<Void, KinesisError>) -> Bool {
        if case .success = result { return true }
        return false
    }

    private func shards(_ catalog: Catalog) -> [ShardMetadata] {
        catalog.stream("s", in: namespace)?.shards ?? []
    }

    @Test("with four nodes in three zones, every shard still has one replica per zone")
    func onePerZoneWithFourNodes() {
        let members = founders + [ClusterMember(id: 4, zone: "az-a")]
        let zoneOf = Dictionary(uniqueKeysWithValues: members.map { ($0.id, $0.zone) })
        var used: Set<UInt64> = []
        for shard in shards(catalog(members: members, shards: 12)) {
            let replicas = shard.replicas ?? []
            #expect(replicas.count == 3)
            #expect(Set(replicas.compactMap { zoneOf[$0] }).count == 3, "shard \(shard.index): \(replicas)")
            used.formUnion(replicas)
        }
        #expect(used == [1, 2, 3, 4], "both az-a nodes get replicas")
    }

    @Test("removing a node moves each of its replicas to a node of the same zone, in its place, and marks the move")
    func removeReplacesInZone() {
        var catalog = catalog(members: founders + [ClusterMember(id: 4, zone: "az-c")], shards: 6)
        let before = shards(catalog)
        #expect(succeeded(catalog.apply(.removeMember(id: 3), at: LogIndex(10))))
        #expect(!catalog.members.contains { $0.id == 3 })
        for (old, new) in zip(before, shards(catalog)) {
            let oldReplicas = old.replicas ?? []
            guard let position = oldReplicas.firstIndex(of: 3) else {
                #expect(new.replicas == old.replicas && new.leaving == nil)
                continue
            }
            var expected = oldReplicas
            expected[position] = 4
            #expect(new.replicas == expected)
            #expect(new.leaving == [3])
            #expect(new.initialReplicas == oldReplicas)
        }
        #expect(catalog.movingShards.count == before.filter { $0.replicas?.contains(3) == true }.count)
        let moving = catalog.movingShards.map(\.shard.index)
        for index in moving {
            #expect(succeeded(catalog.apply(.finishMove(streamID: "s-id", shard: index), at: LogIndex(11))))
        }
        #expect(catalog.movingShards.isEmpty)
        #expect(shards(catalog).allSatisfy { $0.initialReplicas == nil || $0.initialReplicas?.contains(3) == true })
    }

    @Test("a removed node is never added back, and the last member cannot be removed")
    func removedStaysOut() {
        var catalog = catalog(members: founders, shards: 2)
        #expect(succeeded(catalog.apply(.removeMember(id: 2), at: LogIndex(10))))
        #expect(!succeeded(catalog.apply(.addMember(ClusterMember(id: 2, zone: "az-b")), at: LogIndex(11))))
        #expect(!succeeded(catalog.apply(.removeMember(id: 9), at: LogIndex(12))))
        _ = catalog.apply(.removeMember(id: 1), at: LogIndex(13))
        #expect(!succeeded(catalog.apply(.removeMember(id: 3), at: LogIndex(14))))
    }

    @Test("with no node left in its zone, a removed node's shards shrink; a node that joins later refills them")
    func shrinkThenRefill() {
        var catalog = catalog(members: founders, shards: 3)
        _ = catalog.apply(.removeMember(id: 3), at: LogIndex(10))
        for shard in shards(catalog) {
            #expect(shard.replicas?.count == 2 && shard.replicas?.contains(3) == false)
            _ = catalog.apply(.finishMove(streamID: "s-id", shard: shard.index), at: LogIndex(11))
        }
        _ = catalog.apply(.addMember(ClusterMember(id: 5, zone: "az-c")), at: LogIndex(12))
        for shard in shards(catalog) {
            #expect(shard.replicas?.count == 3 && shard.replicas?.last == 5)
            #expect(shard.leaving == [], "a move with nobody leaving")
        }
    }

    @Test("a node that joins a zone takes half of that zone's replicas, in place, and nothing else moves")
    func joinRebalancesItsZone() {
        var catalog = catalog(members: founders, shards: 6)
        let before = shards(catalog)
        #expect(succeeded(catalog.apply(.addMember(ClusterMember(id: 4, zone: "az-a")), at: LogIndex(10))))
        let after = shards(catalog)
        #expect(after.filter { $0.replicas?.contains(4) == true }.count == 3)
        #expect(after.filter { $0.replicas?.contains(1) == true }.count == 3)
        for (old, new) in zip(before, after) {
            if new.replicas == old.replicas {
                #expect(new.leaving == nil)
            } else {
                #expect(new.replicas == old.replicas?.map { $0 == 1 ? 4 : $0 })
                #expect(new.leaving == [1] && new.initialReplicas == old.replicas)
            }
        }
        // Joining again changes nothing.
        #expect(succeeded(catalog.apply(.addMember(ClusterMember(id: 4, zone: "az-a")), at: LogIndex(11))))
        #expect(shards(catalog) == after)
    }

    @Test("the metadata group keeps its voters, and replaces a removed one by a node of an uncovered zone")
    func metadataVoters() {
        let members = founders + [ClusterMember(id: 4, zone: "az-a"), ClusterMember(id: 5, zone: "az-c")]
        #expect(Placement.metadataVoters(members: members, current: [1, 2, 3]) == [1, 2, 3])
        let without3 = members.filter { $0.id != 3 }
        #expect(Placement.metadataVoters(members: without3, current: [1, 2, 3]) == [1, 2, 5])
        #expect(Placement.metadataVoters(members: Array(founders.prefix(2)), current: [1, 2, 3]) == [1, 2])
    }
}
