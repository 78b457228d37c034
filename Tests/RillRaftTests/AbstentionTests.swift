import RillModel
import RillRaft
import Testing

/// ARCHITECTURE.md (rule): a replica that lost its disk never votes until it has caught up with a leader
/// elected without it.
@Suite struct AbstentionTests {
    /// Node 3 loses its disk: it comes back with an empty log, term 0 and no vote, and abstains.
    private func clusterWithWipedThird() -> TestCluster {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        for i in 0..<5 { _ = try? cluster[1].propose(kind: .records, payload: [UInt8(i)], timestampMillis: 0) }
        cluster.stabilize()
        cluster.storage[NodeID(3)] = Raft.MemoryStorage()
        cluster.hardStates[NodeID(3)] = Raft.HardState()
        cluster.add(NodeID(3), configuration: cluster[1].configuration)
        cluster[3].abstainUntilCaughtUp()
        return cluster
    }

    @Test("a wiped member grants no vote, not even to an up-to-date candidate, before it caught up")
    func refusesVotesWhileAbstaining() {
        var cluster = clusterWithWipedThird()
        var wiped = cluster[3]
        wiped.step(
            message(
                2,
                3,
                term: 5,
                .requestVote(lastIndex: LogIndex(6), lastTerm: Term(1), preVote: false, transfer: false)
            )
        )
        let answers = outgoing(&wiped)
        #expect(answers.count == 1)
        if case .voteResponse(let granted, _) = answers.first?.body { #expect(!granted) }
        #expect(wiped.vote == nil)
        cluster[3] = wiped
    }

    @Test("an idle leader re-replicates a wiped follower from heartbeats alone, and it stops abstaining")
    func idleGroupCatchesUpAWipedFollower() {
        var cluster = clusterWithWipedThird()
        cluster.tickHeartbeat(1)
        cluster.stabilize()
        cluster.tickHeartbeat(1)
        cluster.stabilize()
        #expect(cluster[3].log.lastIndex == cluster[1].log.lastIndex)
        #expect(cluster[1].progress[NodeID(3)]?.match == cluster[1].log.lastIndex)
        #expect(cluster[3].abstention == nil)
    }

    @Test("a wiped member never campaigns while abstaining")
    func neverCampaignsWhileAbstaining() {
        var cluster = clusterWithWipedThird()
        cluster.partition = [[NodeID(1), NodeID(2)], [NodeID(3)]]
        for _ in 0..<(4 * cluster.options.electionTicks) { cluster[3].tick() }
        #expect(cluster[3].role == .follower)
        #expect(cluster[3].term == .zero)
    }

    @Test("once it holds what the leader had committed, it votes again, but not twice in the leader's term")
    func votesAgainAfterCatchingUp() {
        var cluster = clusterWithWipedThird()
        cluster.tickHeartbeat(1)
        _ = try? cluster[1].propose(kind: .records, payload: [9], timestampMillis: 0)
        cluster.stabilize()
        #expect(cluster[3].abstention == nil)
        #expect(cluster[3].log.lastIndex == cluster[1].log.lastIndex)
        #expect(cluster[3].vote == NodeID(1), "the catch-up records a vote for the leader of the current term")
        // Node 1 fails; 2 and 3 elect a new leader between them.
        cluster.partition = [[NodeID(1)], [NodeID(2), NodeID(3)]]
        for _ in 0..<(20 * cluster.options.electionTicks) where cluster[2].role != .leader && cluster[3].role != .leader
        {
            cluster[2].tick()
            cluster[3].tick()
            cluster.stabilize()
        }
        #expect(
            cluster[2].role == .leader || cluster[3].role == .leader,
            "2: \(cluster[2].role) t\(cluster[2].term) v\(String(describing: cluster[2].vote)) last \(cluster[2].log.lastIndex); 3: \(cluster[3].role) t\(cluster[3].term) v\(String(describing: cluster[3].vote)) last \(cluster[3].log.lastIndex) abst \(String(describing: cluster[3].abstention))"
        )
    }

    @Test("with the only other up-to-date member down, no leader is elected: the wiped member waits")
    func noElectionWithoutAnUpToDateMajority() {
        var cluster = clusterWithWipedThird()
        cluster.partition = [[NodeID(1)], [NodeID(2), NodeID(3)]]
        for _ in 0..<5 {
            cluster.tickElection(2)
            cluster.stabilize()
        }
        #expect(cluster[2].role != .leader)
        #expect(cluster[3].role != .leader)
    }
}
