import RillKinesis
import RillModel
import Testing

/// The controller's decisions, without a node: what the metadata leader proposes for a given catalog.
@Suite struct ControllerPlanTests {
    static let founders = [
        ClusterMember(id: 2, zone: "az-b"), ClusterMember(id: 1, zone: "az-a"), ClusterMember(id: 3, zone: "az-c"),
    ]

    static func formed() -> Catalog {
        var catalog = Catalog()
        _ = catalog.apply(.setMembers(founders), at: LogIndex(1))
        return catalog
    }

    @Test("a catalog without members gets the founders, sorted, and nothing else until they are recorded")
    func foundersFirst() {
        let commands = ControllerPlan.commands(catalog: Catalog(), founders: Self.founders, alive: Self.founders)
        #expect(commands == [.setMembers(Self.founders.sorted { $0.id < $1.id })])
        #expect(ControllerPlan.founding(Self.formed(), founders: Self.founders) == nil)
        #expect(ControllerPlan.healing(Catalog()) == nil)
    }

    @Test("alive non-members are admitted; removed nodes are refused; members are left alone")
    func admissions() {
        var catalog = Self.formed()
        _ = catalog.apply(.removeMember(id: 3), at: LogIndex(2))
        let newcomer = ClusterMember(id: 4, zone: "az-c")
        let (admit, refused) = ControllerPlan.admissions(
            catalog,
            alive: Self.founders + [newcomer]
        )
        #expect(admit == [.addMember(newcomer)])
        #expect(refused == [3])
    }

    @Test("the metadata group has three voters in three zones, other members learn")
    func metadataGroup() {
        #expect(ControllerPlan.metadataGroup(Catalog(), currentVoters: []) == nil)
        var catalog = Self.formed()
        _ = catalog.apply(.addMember(ClusterMember(id: 4, zone: "az-a")), at: LogIndex(2))
        let target = ControllerPlan.metadataGroup(catalog, currentVoters: [1, 2, 3])
        #expect(target?.voters == [1, 2, 3])
        #expect(target?.learners == [4])
    }

    @Test("a created stream is placed, so nothing is healed or moved in a formed three-zone cluster")
    func placedStreamsNeedNothing() {
        var catalog = Self.formed()
        let create = CreateStreamCommand(
            namespace: Namespace(account: "1", region: "r"),
            name: "s",
            id: "id",
            shardCount: 3,
            mode: .provisioned,
            createdMillis: 0,
            epoch: 1,
            tags: [:],
            maxRecordSizeKiB: 1024
        )
        #expect((try? catalog.apply(.createStream(create), at: LogIndex(2)).get()) != nil)
        #expect(ControllerPlan.commands(catalog: catalog, founders: Self.founders, alive: Self.founders).isEmpty)
        #expect(ControllerPlan.shardMoves(catalog, limit: 32).isEmpty)
    }
}
