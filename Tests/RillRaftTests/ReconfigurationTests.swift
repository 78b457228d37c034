import RillModel
import RillRaft
import Testing

/// The leader's way to a target membership (`Reconfiguration.swift`): learner first, promote when caught up,
/// remove only when every target voter votes, hand leadership over before leaving.
@Suite struct ReconfigurationTests {
    private func ids(_ values: UInt64...) -> Set<NodeID> { Set(values.map { NodeID($0) }) }

    @Test("replacing a voter: add the newcomer as a learner, promote it once caught up, then remove the old one")
    func replaceOrder() {
        let target = Raft.Reconfiguration(voters: ids(1, 2, 4))
        var current = Raft.Configuration(voters: ids(1, 2, 3))
        let caughtUp: (NodeID) -> UInt64? = { _ in 0 }
        #expect(
            target.nextStep(from: current, leader: NodeID(1), lag: caughtUp, promotionLag: 8) == .addLearner(NodeID(4))
        )
        current = Raft.Configuration(voters: ids(1, 2, 3), learners: ids(4))
        let behind: (NodeID) -> UInt64? = { $0 == NodeID(4) ? 500 : 0 }
        #expect(
            target.nextStep(from: current, leader: NodeID(1), lag: behind, promotionLag: 8) == nil,
            "still catching up"
        )
        #expect(
            target.nextStep(from: current, leader: NodeID(1), lag: caughtUp, promotionLag: 8) == .promote(NodeID(4))
        )
        current = Raft.Configuration(voters: ids(1, 2, 3, 4))
        #expect(target.nextStep(from: current, leader: NodeID(1), lag: caughtUp, promotionLag: 8) == .remove(NodeID(3)))
        current = Raft.Configuration(voters: ids(1, 2, 4))
        #expect(target.isReached(by: current))
        #expect(target.nextStep(from: current, leader: NodeID(1), lag: caughtUp, promotionLag: 8) == nil)
    }

    /// Found by `rill chaos --faults replace`: with a voter dead and a short log, a learner that had not
    /// answered yet was promoted at once ({1, 2, 3} with 3 dead became {1, 2, 3, 4} with 4 silent: two live
    /// voters of four, no majority, no leader). A learner is promoted only once it has matched something.
    @Test(
        "a silent learner of a short log is not promoted until it has answered, so a dead voter cannot cost the majority"
    )
    func silentLearnerWaits() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        try cluster[1].propose(kind: .records, payload: [1])
        cluster.stabilize()
        // Node 3 is dead; node 4 is added but has not opened the group yet.
        cluster.partition = [[NodeID(1), NodeID(2)], [NodeID(3)], [NodeID(4)]]
        cluster.add(NodeID(4), configuration: Raft.Configuration(voters: []))
        let target = Raft.Reconfiguration(voters: ids(1, 2, 4))
        #expect(target.nextStep(leading: cluster[1], promotionLag: 64) == .addLearner(NodeID(4)))
        try cluster[1].proposeConfigurationChange(.addLearner(NodeID(4)))
        cluster.stabilize()
        cluster.tickHeartbeat(1)
        cluster.stabilize()
        #expect(cluster[1].configuration.learners == ids(4))
        #expect(cluster[1].log.lastIndex.rawValue < 64, "the log is shorter than the promotion lag")
        #expect(target.nextStep(leading: cluster[1], promotionLag: 64) == nil, "4 has not answered")
        // Node 4 answers: now it may be promoted, and {1, 2, 4} keeps a majority with 3 dead.
        cluster.partition = [[NodeID(1), NodeID(2), NodeID(4)], [NodeID(3)]]
        cluster.tickHeartbeat(1)
        cluster.stabilize()
        #expect(target.nextStep(leading: cluster[1], promotionLag: 64) == .promote(NodeID(4)))
    }

    @Test("a leader that must leave hands leadership to the most caught-up target voter first")
    func leaderLeavesLast() {
        let target = Raft.Reconfiguration(voters: ids(2, 3, 4))
        let current = Raft.Configuration(voters: ids(1, 2, 3, 4))
        let lag: (NodeID) -> UInt64? = { [NodeID(2): 9, NodeID(3): 1, NodeID(4): 3][$0] }
        #expect(
            target.nextStep(from: current, leader: NodeID(1), lag: lag, promotionLag: 8)
                == .transferLeadership(to: NodeID(3))
        )
        #expect(
            target.nextStep(from: current, leader: NodeID(1), lag: { _ in nil }, promotionLag: 8) == nil,
            "no heir known"
        )
        #expect(target.nextStep(from: current, leader: NodeID(2), lag: lag, promotionLag: 8) == .remove(NodeID(1)))
    }

    @Test("the metadata group keeps non-voting members as learners and demotes instead of removing")
    func learnersStay() {
        let target = Raft.Reconfiguration(voters: ids(1, 2, 4), learners: ids(3, 5))
        var current = Raft.Configuration(voters: ids(1, 2, 3))
        let lag: (NodeID) -> UInt64? = { _ in 0 }
        #expect(target.nextStep(from: current, leader: NodeID(1), lag: lag, promotionLag: 8) == .addLearner(NodeID(4)))
        current = Raft.Configuration(voters: ids(1, 2, 3), learners: ids(4))
        #expect(target.nextStep(from: current, leader: NodeID(1), lag: lag, promotionLag: 8) == .addLearner(NodeID(5)))
        current = Raft.Configuration(voters: ids(1, 2, 3), learners: ids(4, 5))
        #expect(target.nextStep(from: current, leader: NodeID(1), lag: lag, promotionLag: 8) == .promote(NodeID(4)))
        current = Raft.Configuration(voters: ids(1, 2, 3, 4), learners: ids(5))
        #expect(target.nextStep(from: current, leader: NodeID(1), lag: lag, promotionLag: 8) == .demote(NodeID(3)))
        current = Raft.Configuration(voters: ids(1, 2, 4), learners: ids(3, 5, 6))
        #expect(target.nextStep(from: current, leader: NodeID(1), lag: lag, promotionLag: 8) == .remove(NodeID(6)))
    }

    @Test("driven through the real core, a replacement keeps a majority committing and ends at the target")
    func drivenThroughTheCore() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.add(NodeID(4), configuration: Raft.Configuration(voters: []))
        let target = Raft.Reconfiguration(voters: ids(2, 3, 4))
        var steps: [Raft.ReconfigurationStep] = []
        var leader: UInt64 = 1
        for round in 0..<40 {
            try cluster[leader].propose(kind: .records, payload: [UInt8(round)])
            cluster.stabilize()
            cluster.tickHeartbeat(leader)
            cluster.stabilize()
            if target.isReached(by: cluster[leader].configuration) { break }
            let node = cluster[leader]
            let lag: (NodeID) -> UInt64? = { id in
                node.progress[id].map { node.log.lastIndex.rawValue - $0.match.rawValue }
            }
            guard
                let step = target.nextStep(from: node.configuration, leader: NodeID(leader), lag: lag, promotionLag: 2)
            else { continue }
            steps.append(step)
            if case .transferLeadership(let heir) = step {
                try cluster[leader].transferLeadership(to: heir)
                cluster.stabilize()
                leader = heir.rawValue
                #expect(cluster[leader].role == .leader)
            } else if let change = step.change {
                try cluster[leader].proposeConfigurationChange(change)
            }
        }
        #expect(
            steps == [
                .addLearner(NodeID(4)), .promote(NodeID(4)), .transferLeadership(to: NodeID(2)), .remove(NodeID(1)),
            ]
        )
        for id: UInt64 in [2, 3, 4] { #expect(cluster[id].configuration == Raft.Configuration(voters: ids(2, 3, 4))) }
        #expect(cluster[4].log.lastIndex == cluster[2].log.lastIndex)
    }
}
