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
}
