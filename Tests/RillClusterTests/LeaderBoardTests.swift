import RillModel
import RillTransport
import Synchronization
import Testing

@testable import RillCluster

/// The leader board ends a forward's wait when this node's replica of the group sees the leader's term end,
/// and only then.
@Suite struct LeaderBoardTests {
    let group = RaftGroupID.shard(streamID: "s7", shard: ShardID(index: 0))
    let old = NodeID(1)
    let other = NodeID(2)

    @Test func aViewMovesAwayOnlyInANewerTermWithoutTheOldLeader() {
        let sent = Term(4)
        #expect(!LeaderBoard.View(term: Term(4), leader: old).hasMovedAway(from: old, since: sent))
        // Pre-vote keeps the term: a follower that stopped hearing from the leader is not enough.
        #expect(!LeaderBoard.View(term: Term(4), leader: nil).hasMovedAway(from: old, since: sent))
        #expect(!LeaderBoard.View(term: Term(4), leader: other).hasMovedAway(from: old, since: sent))
        // A real candidacy (a majority granted pre-votes) or a new leader ends the old term.
        #expect(LeaderBoard.View(term: Term(5), leader: nil).hasMovedAway(from: old, since: sent))
        #expect(LeaderBoard.View(term: Term(5), leader: other).hasMovedAway(from: old, since: sent))
        // The old leader re-elected in a newer term still answers the call.
        #expect(!LeaderBoard.View(term: Term(6), leader: old).hasMovedAway(from: old, since: sent))
    }

    @Test func aNewTermWithoutTheTargetAbandonsTheWatchedCallOnce() async throws {
        let board = LeaderBoard()
        board.update(group, term: Term(4), leader: old)
        let abandoned = Mutex(0)
        try await board.abandoningIfLeaderMoves(group, from: old) { abandonment in
            #expect(board.watchCount == 1)
            board.update(group, term: Term(4), leader: nil)
            board.update(group, term: Term(4), leader: other)
            #expect(!abandonment.isAbandoned)
            board.update(group, term: Term(5), leader: nil)
            #expect(abandonment.isAbandoned)
            abandoned.withLock { $0 += 1 }
            board.update(group, term: Term(5), leader: other)
        }
        #expect(abandoned.withLock { $0 } == 1)
        #expect(board.watchCount == 0)
        #expect(board.view(of: group) == LeaderBoard.View(term: Term(5), leader: other))
    }

    @Test func aCallToALeaderGossipSeesAliveWaitsUntilGossipStopsSeeingIt() async throws {
        let alive = Mutex<Set<NodeID>>([NodeID(1), NodeID(2)])
        let board = LeaderBoard(isAnswering: { node in alive.withLock { $0.contains(node) } })
        board.update(group, term: Term(4), leader: old)
        try await board.abandoningIfLeaderMoves(group, from: old) { abandonment in
            // A transfer: the old leader is alive and answers for what it was doing; the call waits for it.
            board.update(group, term: Term(5), leader: other)
            #expect(!abandonment.isAbandoned)
            // Another member's trouble changes nothing.
            alive.withLock { _ = $0.remove(other) }
            board.memberMayBeGone(other)
            #expect(!abandonment.isAbandoned)
            // Gossip suspects the old leader: now the call is abandoned.
            alive.withLock { _ = $0.remove(old) }
            board.memberMayBeGone(old)
            #expect(abandonment.isAbandoned)
        }
        #expect(board.watchCount == 0)
        // Suspected first, replaced after: the move abandons at once.
        board.update(group, term: Term(5), leader: other)
        try await board.abandoningIfLeaderMoves(group, from: other) { abandonment in
            board.memberMayBeGone(other)
            #expect(!abandonment.isAbandoned, "the group has not moved away from it")
            board.update(group, term: Term(6), leader: NodeID(3))
            #expect(abandonment.isAbandoned)
        }
    }

    /// A process that reaches no other node hears of no new term, so no group ever moves away in its view: every
    /// call it waits on is abandoned at once, whatever group or target, and gossip's view of the targets.
    @Test func aCutOffProcessAbandonsEveryCallItWaitsOn() async throws {
        let board = LeaderBoard(isAnswering: { _ in true })
        let second = RaftGroupID.shard(streamID: "s7", shard: ShardID(index: 1))
        board.update(group, term: Term(4), leader: old)
        board.update(second, term: Term(4), leader: other)
        try await board.abandoningIfLeaderMoves(group, from: old) { first in
            try await board.abandoningIfLeaderMoves(second, from: other) { next in
                #expect(board.watchCount == 2)
                board.abandonEveryCall()
                #expect(first.isAbandoned && next.isAbandoned)
                #expect(board.watchCount == 0)
            }
        }
        // A call that starts later is watched as usual.
        try await board.abandoningIfLeaderMoves(group, from: old) { abandonment in
            #expect(!abandonment.isAbandoned && board.watchCount == 1)
        }
    }

    @Test func otherGroupsAndOtherTargetsAreLeftAlone() async throws {
        let board = LeaderBoard()
        let second = RaftGroupID.shard(streamID: "s7", shard: ShardID(index: 1))
        board.update(group, term: Term(4), leader: old)
        board.update(second, term: Term(4), leader: old)
        try await board.abandoningIfLeaderMoves(group, from: old) { abandonment in
            board.update(second, term: Term(9), leader: other)
            #expect(!abandonment.isAbandoned)
            // The old leader won again: the call to it stands.
            board.update(group, term: Term(5), leader: old)
            #expect(!abandonment.isAbandoned)
        }
    }

    @Test func withNothingKnownTheFirstOtherLeaderEndsTheWait() async throws {
        let board = LeaderBoard()
        try await board.abandoningIfLeaderMoves(group, from: old) { abandonment in
            #expect(board.watchCount == 1)
            // The first hint names the target itself: the wait goes on, now from its term.
            board.learn(group, term: Term(1), leader: old)
            #expect(!abandonment.isAbandoned)
            board.learn(group, term: Term(2), leader: other)
            #expect(abandonment.isAbandoned)
        }
        #expect(board.watchCount == 0)
        // A group closed here is forgotten.
        board.forget(group)
        #expect(board.view(of: group) == nil)
    }

    @Test func gossipedLeadersOnlyMoveTheBoardForward() async throws {
        let board = LeaderBoard()
        board.learn(group, term: Term(4), leader: old)
        #expect(board.view(of: group) == LeaderBoard.View(term: Term(4), leader: old))
        try await board.abandoningIfLeaderMoves(group, from: old) { abandonment in
            // A late hint of an older term changes nothing; the successor's hint ends the wait.
            board.learn(group, term: Term(3), leader: other)
            #expect(!abandonment.isAbandoned)
            board.learn(group, term: Term(5), leader: other)
            #expect(abandonment.isAbandoned)
        }
        // What a replica here saw is not taken back by a hint of the same term.
        board.update(group, term: Term(6), leader: nil)
        board.learn(group, term: Term(6), leader: other)
        #expect(board.view(of: group) == LeaderBoard.View(term: Term(6), leader: nil))
    }
}
