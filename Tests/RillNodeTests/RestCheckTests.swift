import Foundation
import RillModel
import RillRaft
import Synchronization
import Testing

@testable import RillReplication

/// The rest check (`RestCheck`): its two pure halves, then real drivers that no longer nudge themselves, woken
/// only by what a check finds.
@Suite struct RestCheckTests {
    static let shard = RaftGroupID.shard(streamID: "s", shard: ShardID(index: 3))

    static func status(
        _ role: Raft.Role,
        leader: NodeID?,
        term: UInt64 = 4,
        commit: UInt64 = 9,
        lastIndex: UInt64? = nil,
        resting: Bool = true,
        voters: Set<NodeID> = [NodeID(1), NodeID(2), NodeID(3)],
        learners: Set<NodeID> = []
    ) -> RaftGroupDriver.Status {
        RaftGroupDriver.Status(
            role: role,
            leader: leader,
            term: Term(term),
            commit: LogIndex(commit),
            applied: LogIndex(commit),
            lastIndex: LogIndex(lastIndex ?? commit),
            resting: resting,
            configuration: Raft.Configuration(voters: voters, learners: learners)
        )
    }

    @Test("a resting leader asks every other member, voter or learner; a resting follower asks its leader")
    func callsGoWhereTheRestingViewPoints() {
        let me = NodeID(1)
        let followed = RaftGroupID.shard(streamID: "t", shard: ShardID(index: 0))
        let orphan = RaftGroupID.shard(streamID: "u", shard: ShardID(index: 0))
        let calls = RestCheck.calls(
            resting: [
                (.meta, Self.status(.leader, leader: me, learners: [NodeID(4)])),
                (Self.shard, Self.status(.leader, leader: me, resting: false)),
                (followed, Self.status(.follower, leader: NodeID(2), term: 7)),
                (orphan, Self.status(.follower, leader: nil)),
            ],
            me: me
        )
        let led = RestingGroup(group: .meta, term: Term(4), leader: me, commit: LogIndex(9))
        let follows = RestingGroup(group: followed, term: Term(7), leader: NodeID(2), commit: LogIndex(9))
        #expect(calls == [NodeID(2): [led, follows], NodeID(3): [led], NodeID(4): [led]])
        #expect(RestCheck.calls(resting: [], me: me).isEmpty)
    }

    @Test("a follower's node agrees only with a replica that rests as the sender's follower, same term and log")
    func followersDisagreeWithAnythingButAnIdenticalRestingFollower() {
        let leader = NodeID(1)
        let me = NodeID(2)
        let entry = RestingGroup(group: Self.shard, term: Term(4), leader: leader, commit: LogIndex(9))
        let cases: [(String, RaftGroupDriver.Status?, Bool)] = [
            ("the same view", Self.status(.follower, leader: leader), true),
            ("no replica, or awake", nil, false),
            ("a newer term", Self.status(.follower, leader: NodeID(3), term: 5), false),
            ("another leader in the same term", Self.status(.follower, leader: NodeID(3)), false),
            ("behind (a lost disk)", Self.status(.follower, leader: leader, commit: 0), false),
            ("an unapplied tail", Self.status(.follower, leader: leader, commit: 9, lastIndex: 10), false),
            ("awake", Self.status(.follower, leader: leader, resting: false), false),
            ("also leading", Self.status(.leader, leader: me), false),
        ]
        for (name, local, agrees) in cases {
            let found = RestCheck.disagreeing([entry], me: me) { _ in local }
            #expect(found == (agrees ? [] : [0]), "\(name)")
        }
        let second = RestingGroup(group: .meta, term: Term(4), leader: leader, commit: LogIndex(9))
        let found = RestCheck.disagreeing([entry, second], me: me) { group in
            group == .meta ? Self.status(.follower, leader: leader) : nil
        }
        #expect(found == [0])
    }

    @Test("a leader's node agrees only when its replica still rests as that leader, same term and log")
    func leadersDisagreeWithFollowersOfALeaderThatIsGone() {
        let me = NodeID(1)
        let entry = RestingGroup(group: Self.shard, term: Term(4), leader: me, commit: LogIndex(9))
        let cases: [(String, RaftGroupDriver.Status?, Bool)] = [
            ("still leading, resting", Self.status(.leader, leader: me), true),
            // The leader's node restarted, its news lost: the new replica follows nobody and must not be rested on.
            ("restarted, no leader", Self.status(.follower, leader: nil, term: 0, commit: 0), false),
            ("deposed", Self.status(.follower, leader: NodeID(3), term: 5), false),
            ("awake for a write", nil, false),
            ("ahead", Self.status(.leader, leader: me, commit: 10), false),
        ]
        for (name, local, agrees) in cases {
            let found = RestCheck.disagreeing([entry], me: me) { _ in local }
            #expect(found == (agrees ? [] : [0]), "\(name)")
        }
    }

    /// Three real drivers that do not nudge themselves, as a node's groups run: once the group rests, its leader
    /// sends nothing, and a check finds nothing to wake. A follower that loses its disk comes back awake and
    /// empty; the check names its group, the leader woken by it heartbeats, the follower catches up, and
    /// everything rests again with nothing left to wake.
    @Test func aRestCheckWakesALeaderOnlyWhenAMemberDisagrees() async throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let ids = [NodeID(1), NodeID(2), NodeID(3)]
        let router = MessageRouter()
        let sent = Mutex(0)
        let send: @Sendable ([Raft.Message]) -> Void = { messages in
            sent.withLock { $0 += messages.count }
            router.send(messages)
        }
        try await RaftGroupDriverTests.withFlusher { flusher in
            func open(_ id: NodeID) throws -> RaftGroupDriver {
                try RaftGroupDriverTests.openMember(
                    id,
                    of: ids,
                    root: root,
                    flusher: flusher,
                    nudgesWhileResting: false,
                    send: send
                )
            }
            var drivers = try await RaftGroupDriverTests.start(ids, router: router, open: open)
            // What `Node.checkRestingGroups` does on each node, with every answer read directly: which nodes'
            // groups the check would wake.
            func check() -> Set<NodeID> {
                var woken: Set<NodeID> = []
                for caller in ids {
                    guard let status = drivers[caller]!.restingStatus else { continue }
                    for (member, entries) in RestCheck.calls(resting: [(testGroup, status)], me: caller) {
                        let positions = RestCheck.disagreeing(entries, me: member) { _ in
                            drivers[member]!.restingStatus
                        }
                        if !positions.isEmpty { woken.insert(caller) }
                    }
                }
                return woken
            }
            func leader() async -> NodeID? {
                for id in ids where await drivers[id]!.status.role == .leader { return id }
                return nil
            }
            func allResting() -> Bool { ids.allSatisfy { drivers[$0]!.restingStatus != nil } }

            #expect(await eventually { await leader() != nil })
            let first = try #require(await leader())
            let written = try await drivers[first]!.propose(kind: .records, payload: [1], timestampMillis: 1)
            #expect(await eventually { allResting() })
            #expect(check().isEmpty)
            // Resting, and no nudge: a second and a half without one message (the nudge period is a second).
            let before = sent.withLock { $0 }
            try await Task.sleep(for: .milliseconds(1500))
            #expect(sent.withLock { $0 } == before, "a resting leader that does not nudge itself sent messages")
            #expect(drivers[first]!.restingStatus != nil)

            // A follower loses its disk: it comes back awake and empty, and nothing wakes its resting leader.
            let member = ids.first { $0 != first }!
            router.attach(member, nil)
            await drivers[member]!.stop()
            try FileManager.default.removeItem(atPath: "\(root)/\(member)")
            drivers[member] = try open(member)
            router.attach(member, drivers[member])
            await drivers[member]!.start()
            #expect(check() == [first])
            drivers[first]!.enqueueWakeUp()
            #expect(await eventually { await drivers[member]!.status.commit >= written })
            #expect(await eventually { allResting() })
            #expect(check().isEmpty)
            for driver in drivers.values { await driver.stop() }
            await router.shutdown()
        }
    }
}
