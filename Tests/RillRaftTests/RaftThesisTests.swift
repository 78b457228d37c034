import RillModel
import RillRaft
import Testing

/// One test per rule the Raft thesis (Ongaro 2014) adds to the paper, and Raft §7 snapshots.
@Suite struct RaftThesisTests {
    @Test("Thesis §9.6: pre-vote does not raise the term of a node that cannot win")
    func preVoteKeepsTerm() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        let term = cluster[3].term
        cluster.partition = [[NodeID(1), NodeID(2)], [NodeID(3)]]
        for _ in 0..<5 {
            cluster.tickElection(3)
            cluster.stabilize()
        }
        #expect(cluster[3].term == term)
        #expect(cluster[3].role == .preCandidate)
        cluster.partition = nil
        cluster.tickHeartbeat(1)
        cluster.stabilize()
        #expect(cluster[1].role == .leader && cluster[1].term == term)
        #expect(cluster[3].role == .follower)
    }

    @Test("Thesis §6.2: a leader that stops hearing from a majority steps down after an election timeout")
    func checkQuorumStepsDown() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.partition = [[NodeID(1)], [NodeID(2), NodeID(3)]]
        for _ in 0..<(2 * cluster.options.electionTicks) {
            cluster.tickHeartbeat(1)
            cluster.stabilize()
        }
        #expect(cluster[1].role == .follower)
    }

    @Test("Thesis §6.2, §4.2.3: voters that hear from a leader ignore vote requests")
    func leaderLeaseIgnoresVotes() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        var node = cluster[2]
        _ = outgoing(&node)
        node.step(
            message(
                3,
                2,
                term: 5,
                .requestVote(lastIndex: LogIndex(9), lastTerm: Term(4), preVote: false, transfer: false)
            )
        )
        #expect(node.term == Term(1))
        #expect(outgoing(&node).isEmpty)
    }

    @Test("Thesis §3.10: leadership transfer brings the target up to date and hands over with TimeoutNow")
    func leadershipTransfer() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        try cluster[1].propose(kind: .records, payload: [1])
        cluster.stabilize()
        try cluster[1].transferLeadership(to: NodeID(3))
        #expect(throws: Raft.RaftError.proposalDropped) { try cluster[1].propose(kind: .records, payload: [2]) }
        let messages = cluster.stabilize()
        #expect(messages.contains { $0.body == .timeoutNow && $0.to == NodeID(3) })
        #expect(cluster[3].role == .leader)
        #expect(cluster[1].role == .follower && cluster[1].leader == NodeID(3))
    }

    @Test("Thesis §4.1: a learner receives the log but neither votes nor counts toward commit")
    func learnersDoNotCount() throws {
        var cluster = TestCluster(voters: 1, learners: [2, 3])
        cluster.elect(1)
        #expect(cluster[1].role == .leader)
        try cluster[1].propose(kind: .records, payload: [5])
        cluster.stabilize()
        cluster.tickHeartbeat(1)
        cluster.stabilize()
        #expect(cluster.applied[NodeID(3)]?.last?.payload == [5])
        // A learner never campaigns.
        for _ in 0..<50 { cluster[2].tick() }
        #expect(cluster[2].role == .follower)
        #expect(!cluster[2].isPromotable)
    }

    @Test("Thesis §4.1: a configuration takes effect when appended, and only one change may be pending")
    func singleServerChange() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.add(NodeID(4), configuration: Raft.Configuration(voters: []))
        try cluster[1].proposeConfigurationChange(.addLearner(NodeID(4)))
        #expect(cluster[1].configuration.learners == [NodeID(4)])
        #expect(throws: Raft.RaftError.configurationChangeInProgress) {
            try cluster[1].proposeConfigurationChange(.addVoter(NodeID(4)))
        }
        cluster.stabilize()
        try cluster[1].proposeConfigurationChange(.addVoter(NodeID(4)))
        cluster.stabilize()
        #expect(cluster[4].configuration.voters.count == 4)
        try cluster[1].proposeConfigurationChange(.remove(NodeID(1)))
        cluster.stabilize()
        cluster.tickHeartbeat(1)
        cluster.stabilize()
        // Thesis §4.2.2: the removed leader steps down once its removal commits; the others elect a new leader.
        #expect(cluster[1].role == .follower)
        #expect(cluster[2].configuration.voters == [NodeID(2), NodeID(3), NodeID(4)])
        for _ in 0..<40 {
            for id: UInt64 in [2, 3, 4] { cluster[id].tick() }
            cluster.stabilize()
        }
        let leaders = [UInt64(2), 3, 4].filter { cluster[$0].role == .leader }
        #expect(leaders.count == 1)
        guard let leader = leaders.first else { return }
        #expect(throws: Raft.RaftError.invalidConfigurationChange) {
            try cluster[leader].proposeConfigurationChange(.addVoter(NodeID(2)))
        }
    }

    @Test("Raft §7: a follower behind the leader's log start gets a snapshot, then the entries after it")
    func snapshotInstall() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.partition = [[NodeID(1), NodeID(2)], [NodeID(3)]]
        for value in 0..<5 { try cluster[1].propose(kind: .records, payload: [UInt8(value)]) }
        cluster.stabilize()
        cluster.tickHeartbeat(1)
        cluster.stabilize()
        #expect(cluster[1].appliedIndex == LogIndex(6))
        try cluster[1].compact(through: LogIndex(4), state: [0xAB])
        #expect(cluster[1].log.firstIndex == LogIndex(5))
        cluster.partition = nil
        cluster.tickHeartbeat(1)
        let messages = cluster.stabilize()
        #expect(messages.contains { if case .installSnapshot = $0.body { $0.to == NodeID(3) } else { false } })
        #expect(cluster.storage[NodeID(3)]?.snapshot?.state == [0xAB])
        #expect(cluster[3].log.snapshotIndex == LogIndex(4))
        cluster.tickHeartbeat(1)
        cluster.stabilize()
        #expect(cluster[3].log.lastIndex == LogIndex(6))
        #expect(cluster[3].appliedIndex == LogIndex(6))
        // Node 3 applied the first noop before the partition, then the snapshot, then what follows it.
        #expect(cluster.applied[NodeID(3)]?.map(\.index) == [LogIndex(1), LogIndex(5), LogIndex(6)])
    }
}
