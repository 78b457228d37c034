import RillGossip
import RillModel
import Testing

/// When a process counts as cut off (`SWIM.isCutOff`, which the forwarder reads before every call it forwards):
/// it knows other nodes and sees none of them alive.
@Suite struct CutOffTests {
    static func member(_ id: UInt64, _ status: SWIM.Status, role: SWIM.Role = .node) -> SWIM.Member {
        SWIM.Member(
            id: NodeID(id),
            zone: Zone("az-\(id)"),
            role: role,
            apiAddress: "127.0.0.1:\(4000 + id)",
            peerAddress: "127.0.0.1:\(7000 + id)",
            status: status
        )
    }

    @Test func cutOffOnlyWhenNoOtherNodeIsAlive() {
        let me = NodeID(1)
        let suspect = SWIM.Status.suspect(since: SWIM.Tick(0), confirmations: [])
        func cutOff(_ members: [SWIM.Member]) -> Bool { SWIM.isCutOff(me: me, members: members) }
        #expect(!cutOff([Self.member(1, .alive)]), "alone from the start: nobody to reach")
        #expect(!cutOff([Self.member(1, .alive), Self.member(2, .alive), Self.member(3, suspect)]))
        #expect(cutOff([Self.member(1, .alive), Self.member(2, suspect), Self.member(3, .dead)]))
        // Routers hold no groups, and members that left are not waited for.
        #expect(cutOff([Self.member(1, .alive), Self.member(2, suspect), Self.member(4, .alive, role: .router)]))
        #expect(!cutOff([Self.member(1, .alive), Self.member(2, .left), Self.member(3, .alive)]))
        #expect(!cutOff([Self.member(1, .alive), Self.member(2, .left)]), "the others left: nobody to reach")
    }

    @Test("A node partitioned from both others is cut off in its own view only, until the partition heals")
    func aPartitionedNodeIsCutOffUntilItHeals() {
        for seed in TestEnvironment.seeds(base: 900, count: 20) {
            var world = GossipWorld(seed: seed, settings: GossipWorld.Settings(nodeCount: 3, maxJitter: 10))
            world.run(periods: 5)
            func cutOff(_ id: NodeID) -> Bool { world.slots[Int(id.rawValue) - 1].instance?.isCutOff ?? false }
            #expect(!world.ids.contains(where: cutOff), "seed \(seed): cut off in a settled cluster")
            let lonely = NodeID(1)
            world.partition([[lonely], [NodeID(2), NodeID(3)]])
            let noticed = world.run(maxTicks: 100 * world.period) { world in
                world.slots[0].instance?.isCutOff ?? false
            }
            #expect(noticed != nil, "seed \(seed): the lonely node never saw itself cut off")
            #expect(!cutOff(NodeID(2)) && !cutOff(NodeID(3)), "seed \(seed): the majority still sees each other")
            world.heal()
            let healed = world.run(maxTicks: 100 * world.period) { $0.converged }
            #expect(healed != nil && !world.ids.contains(where: cutOff), "seed \(seed): still cut off after healing")
        }
    }
}
