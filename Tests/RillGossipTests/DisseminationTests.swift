import RillGossip
import RillModel
import Testing

@Suite struct DisseminationTests {
    static func hint(_ stream: String, _ shard: UInt32, term: UInt64, leader: UInt64) -> SWIM.LeadershipHint {
        SWIM.LeadershipHint(
            group: .shard(streamID: stream, shard: ShardID(index: shard)),
            term: Term(term),
            leader: NodeID(leader)
        )
    }

    @Test("Each member piggybacks an update at most ⌈λ·ln(n+1)⌉ times, and the update reaches everyone")
    func retransmitBound() {
        let settings = GossipWorld.Settings(nodeCount: 5, maxJitter: 10)
        let limit = settings.swim.retransmitLimit(liveMembers: 5)
        #expect(limit == 6)  // ⌈3 · ln 6⌉ = ⌈5.38⌉
        for seed in TestEnvironment.seeds(base: 700) {
            var world = GossipWorld(seed: seed, settings: settings)
            world.run(periods: 5)
            #expect(world.converged, "seed \(seed): not converged")
            let publisher = world.ids[Int(seed % 5)]
            // Start from quiet queues: a member that hears an outdated copy of itself queues its record again,
            // which is a new round of spreading, not a breach of the bound.
            let quiet = world.run(maxTicks: 20 * world.period) { world in
                world.ids.allSatisfy { world.instance($0)?.pendingTransmissions(of: publisher) == nil }
            }
            #expect(quiet != nil, "seed \(seed): queues never drained")
            world.recordSends = true
            world.publishHints(publisher, [Self.hint("orders", 1, term: 7, leader: publisher.rawValue)])
            let version = world.instance(publisher)!.myself.hintsVersion
            world.run(periods: 20)
            var carried: [NodeID: Int] = [:]
            for sent in world.sends {
                // Push-pull sends whole state on its own schedule; the bound is on piggybacking.
                if case .pushPull = sent.message { continue }
                let count = sent.message.members.filter { $0.id == publisher && $0.hintsVersion == version }.count
                carried[sent.from, default: 0] += count
            }
            for id in world.ids {
                #expect(
                    carried[id, default: 0] <= limit,
                    "seed \(seed): \(id) sent the update \(carried[id, default: 0]) times"
                )
                let learned = world.instance(id)!.member(publisher)?.hintsVersion == version
                #expect(learned, "seed \(seed): \(id) never learned the update")
            }
            #expect(carried[publisher, default: 0] == limit, "seed \(seed): the publisher should use its whole budget")
        }
    }

    @Test("The fewest-sent update goes first and a message carries at most maxGossipPerMessage updates")
    func queueOrder() {
        var settings = SWIM.Settings()
        settings.maxGossipPerMessage = 2
        var instance = SWIM.Instance(
            id: NodeID(1),
            zone: Zone("az-a"),
            role: .node,
            apiAddress: "a:1",
            peerAddress: "p:1",
            settings: settings,
            random: SplitMix64(seed: 1)
        )
        let others = (2...4).map { Fixtures.member(UInt64($0)) }
        instance.receive(.gossip(others), from: NodeID(2))
        _ = instance.takeEffects()
        // Three fresh updates, two per message: the first message takes the newest two, the second the
        // oldest (now the least sent) first.
        instance.receive(.ping(sequence: 1, gossip: []), from: NodeID(2))
        instance.receive(.ping(sequence: 2, gossip: []), from: NodeID(2))
        let carried = instance.takeEffects().compactMap { effect -> [UInt64]? in
            guard case .send(let message, _) = effect else { return nil }
            return message.members.map(\.id.rawValue)
        }
        #expect(carried == [[4, 3], [2, 4]])
    }

    /// Answers `count` pings from member 3, which uses up the queued updates.
    static func drainQueue(_ instance: inout SWIM.Instance, count: Int = 20) {
        for sequence in 0..<UInt64(count) { instance.receive(.ping(sequence: sequence, gossip: []), from: NodeID(3)) }
        _ = instance.takeEffects()
    }

    static func answer(
        _ instance: inout SWIM.Instance,
        pingFrom sender: UInt64,
        carrying gossip: [SWIM.Member] = []
    )
        -> [SWIM.Member]
    {
        instance.receive(.ping(sequence: 99, gossip: gossip), from: NodeID(sender))
        return Fixtures.sends(instance.takeEffects()).first?.message.members ?? []
    }

    @Test("Buddy system: a message to a member we suspect carries the suspicion even after its copies ran out")
    func buddySystem() {
        var instance = Fixtures.instance(1)
        instance.receive(.gossip((2...4).map { Fixtures.member($0) }), from: NodeID(3))
        instance.receive(.gossip([Fixtures.member(2, status: Fixtures.suspect(4))]), from: NodeID(4))
        Self.drainQueue(&instance)
        #expect(instance.pendingTransmissions(of: NodeID(2)) == nil)
        #expect(!Self.answer(&instance, pingFrom: 4).contains { $0.id == NodeID(2) })
        #expect(Self.answer(&instance, pingFrom: 2).contains { $0.id == NodeID(2) && $0.status.isSuspect })
    }

    @Test("A member that hears an outdated record of itself spreads its current one again")
    func staleSelfRecordIsAnswered() {
        var instance = Fixtures.instance(1)
        instance.receive(.gossip((2...4).map { Fixtures.member($0) }), from: NodeID(3))
        instance.receive(.gossip([Fixtures.member(1, status: Fixtures.suspect(2))]), from: NodeID(2))
        #expect(instance.myself.incarnation == 1)
        Self.drainQueue(&instance)
        #expect(instance.pendingTransmissions(of: NodeID(1)) == nil)
        // Member 2 missed the refutation and still spreads the suspicion: its answer carries the refutation.
        let answer = Self.answer(&instance, pingFrom: 2, carrying: [Fixtures.member(1, status: Fixtures.suspect(2))])
        #expect(answer.contains { $0.id == NodeID(1) && $0.incarnation == 1 && $0.status.isAlive })
        // A push-pull's answer is the whole state anyway, so it queues nothing.
        Self.drainQueue(&instance)
        instance.receive(.pushPull(members: [Fixtures.member(1)], isReply: true), from: NodeID(2))
        #expect(instance.pendingTransmissions(of: NodeID(1)) == nil)
    }

    @Test("Leadership hints merge across members: the newest term wins")
    func hintsMerge() {
        var instance = Fixtures.instance(1)
        var two = Fixtures.member(2)
        two.hints = [Self.hint("s", 0, term: 3, leader: 2), Self.hint("s", 1, term: 5, leader: 2)]
        two.hintsVersion = 1
        var three = Fixtures.member(3)
        three.hints = [Self.hint("s", 0, term: 4, leader: 3), Self.hint("s", 1, term: 2, leader: 1)]
        three.hintsVersion = 1
        instance.receive(.gossip([two, three]), from: NodeID(2))
        instance.setLeadershipHints([.init(group: .meta, term: Term(9), leader: NodeID(1))])
        let hints = instance.leadershipHints()
        #expect(hints[.shard(streamID: "s", shard: ShardID(index: 0))]?.leader == NodeID(3))
        #expect(hints[.shard(streamID: "s", shard: ShardID(index: 1))]?.leader == NodeID(2))
        #expect(hints[.meta]?.term == Term(9))
        // An older version of a member's list never replaces a newer one.
        var stale = two
        stale.hintsVersion = 0
        stale.hints = []
        instance.receive(.gossip([stale]), from: NodeID(3))
        #expect(instance.member(NodeID(2))?.hints.count == 2)
    }

    @Test("A leader just elected adds its hint at once, keeping the rest, and the list is gossiped again")
    func hintAddedAtOnce() {
        var instance = Fixtures.instance(1)
        instance.setLeadershipHints([Self.hint("s", 0, term: 3, leader: 1)])
        let version = instance.myself.hintsVersion
        instance.addLeadershipHint(Self.hint("s", 1, term: 7, leader: 1))
        #expect(instance.myself.hints.count == 2)
        #expect(instance.myself.hintsVersion == version + 1)
        #expect(instance.leadershipHints()[.shard(streamID: "s", shard: ShardID(index: 1))]?.term == Term(7))
        // A newer term of a group it already named replaces the old hint; the same hint again changes nothing.
        instance.addLeadershipHint(Self.hint("s", 0, term: 4, leader: 1))
        #expect(instance.myself.hints.count == 2)
        #expect(instance.leadershipHints()[.shard(streamID: "s", shard: ShardID(index: 0))]?.term == Term(4))
        let settled = instance.myself.hintsVersion
        instance.addLeadershipHint(Self.hint("s", 0, term: 4, leader: 1))
        #expect(instance.myself.hintsVersion == settled)
    }
}
