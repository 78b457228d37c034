import RillModel
import RillRaft
import Testing

/// When a shell may stop ticking a group (`Raft+Rest.swift`): only when nobody waits on anything.
@Suite struct RestTests {
    @Test("a leader can rest once every follower holds the log and was told it is committed")
    func leaderRestsWhenEveryoneCaughtUp() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.stabilize()
        #expect(cluster[1].canRest)
        _ = try cluster[1].propose(kind: .records, payload: [1], timestampMillis: 0)
        #expect(!cluster[1].canRest, "an uncommitted proposal")
        cluster.process(NodeID(1))
        _ = cluster.deliver()
        cluster.processAll()
        #expect(!cluster[1].canRest, "acknowledged, but the followers have not heard the commit yet")
        cluster.stabilize()
        #expect(cluster[1].canRest)
        for id: UInt64 in [2, 3] { #expect(cluster[id].isIdleFollower && !cluster[id].canRest) }
    }

    @Test("a follower that lacks entries keeps its leader awake")
    func laggingFollowerKeepsTheLeaderAwake() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.stabilize()
        cluster.partition = [[NodeID(1), NodeID(2)], [NodeID(3)]]
        _ = try cluster[1].propose(kind: .records, payload: [1], timestampMillis: 0)
        cluster.stabilize()
        #expect(cluster[1].commitIndex == cluster[1].log.lastIndex)
        #expect(!cluster[1].canRest)
        // Node 3 cannot know what it missed, so it may look idle; its leader is what stays awake.
        #expect(cluster[2].isIdleFollower)
        cluster.partition = nil
        cluster.tickHeartbeat(1)
        cluster.stabilize()
        #expect(cluster[1].canRest)
    }

    @Test("candidates, and followers that know no leader, are never idle")
    func candidatesAreNeverIdle() {
        var cluster = TestCluster(voters: 3)
        #expect(!cluster[2].isIdleFollower, "no leader known yet")
        cluster.tickElection(2)
        #expect(!cluster[2].isIdleFollower && !cluster[2].canRest)
    }

    @Test("a follower of a suspected leader ends its vote lease and campaigns within an election timeout")
    func suspectedLeaderEndsTheLease() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.stabilize()
        // Node 1's node dies where nobody sees it: its followers heard from it last just now.
        cluster.partition = [[NodeID(1)], [NodeID(2), NodeID(3)]]
        let term = cluster[2].term

        // Suspecting another member changes nothing: node 2 still waits out a whole timeout.
        cluster[2].leaderSuspected(NodeID(3), unlessHeardRecently: false)
        for _ in 0..<(cluster.options.electionTicks - 1) { cluster[2].tick() }
        #expect(cluster[2].role == .follower)

        // Only node 2 suspects node 1: it campaigns early, and node 3, still in its lease, ignores the pre-vote.
        cluster[2].leaderSuspected(NodeID(1), unlessHeardRecently: false)
        cluster[2].tick()
        cluster.tickElection(2)
        #expect(cluster[2].role == .preCandidate)
        cluster.stabilize()
        #expect(cluster[2].role == .preCandidate && cluster[3].term == term, "node 3's lease held")

        // Once node 3 suspects node 1 too, the lease is over and the first campaign wins, within one timeout.
        var cluster2 = TestCluster(voters: 3)
        cluster2.elect(1)
        cluster2.stabilize()
        cluster2.partition = [[NodeID(1)], [NodeID(2), NodeID(3)]]
        for id: UInt64 in [2, 3] { cluster2[id].leaderSuspected(NodeID(1), unlessHeardRecently: false) }
        var ticks = 0
        while cluster2[2].role == .follower, cluster2[3].role == .follower, ticks < cluster2.options.electionTicks {
            cluster2[2].tick()
            cluster2[3].tick()
            ticks += 1
        }
        #expect(ticks <= cluster2.options.electionTicks)
        cluster2.stabilize()
        #expect([cluster2[2].role, cluster2[3].role].contains(.leader))
        #expect(cluster2[2].term > term)
    }

    @Test("a ticking follower that heard its leader within a heartbeat interval ignores a suspicion of it")
    func aFreshHeartbeatOutweighsAStaleSuspicion() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.stabilize()
        // Node 1 spoke a moment ago (stabilize delivered its heartbeats), then stops reaching node 2.
        cluster.partition = [[NodeID(1), NodeID(3)], [NodeID(2)]]
        cluster[2].tick()
        cluster[2].leaderSuspected(NodeID(1), unlessHeardRecently: true)
        // Ignored: node 2 waits out a whole election timeout, as without the news.
        for _ in 0..<(cluster.options.electionTicks - 1) { cluster[2].tick() }
        #expect(cluster[2].role == .follower)

        // Past a heartbeat interval without a word from node 1, the same news ends the lease at once.
        var later = TestCluster(voters: 3)
        later.elect(1)
        later.stabilize()
        later.partition = [[NodeID(1), NodeID(3)], [NodeID(2)]]
        for _ in 0...later.options.heartbeatTicks { later[2].tick() }
        later[2].leaderSuspected(NodeID(1), unlessHeardRecently: true)
        var ticks = 0
        while later[2].role == .follower, ticks < later.options.electionTicks {
            later[2].tick()
            ticks += 1
        }
        #expect(later[2].role != .follower, "node 2 campaigns within one election timeout")
    }

    @Test("suspecting the leader does nothing to the leader itself or to a candidate")
    func suspicionOnlyMovesFollowersOfTheSuspect() {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.stabilize()
        cluster[1].leaderSuspected(NodeID(1), unlessHeardRecently: false)
        #expect(cluster[1].role == .leader)
        cluster.tickElection(2)
        let role = cluster[2].role
        cluster[2].leaderSuspected(NodeID(1), unlessHeardRecently: false)
        #expect(cluster[2].role == role)
    }
}
