import RillGossip
import RillModel
import Testing

/// One instance fed events by hand; the effects are the assertions.
@Suite struct InstanceTests {
    /// Instance 1 knowing members 2 through `last`, effects drained.
    static func knowing(upTo last: UInt64, settings: SWIM.Settings = .default) -> SWIM.Instance {
        var instance = Fixtures.instance(1, settings: settings)
        instance.receive(.gossip((2...last).map { Fixtures.member($0) }), from: NodeID(2))
        _ = instance.takeEffects()
        return instance
    }

    /// Ticks until the instance sends a ping; returns its target and sequence.
    static func tickUntilPing(_ instance: inout SWIM.Instance) -> (target: NodeID, sequence: UInt64)? {
        for _ in 0..<(instance.settings.protocolPeriod * 2) {
            instance.tick()
            for (message, destination) in Fixtures.sends(instance.takeEffects()) {
                if case .ping(let sequence, _) = message, let target = Fixtures.target(destination) {
                    return (target, sequence)
                }
            }
        }
        return nil
    }

    static func isSeedContact(_ destination: SWIM.Destination) -> Bool {
        if case .address = destination { true } else { false }
    }

    static func isPingRequest(_ message: SWIM.Message) -> Bool {
        if case .pingRequest = message { true } else { false }
    }

    @Test("A ping is answered with an ack carrying the sequence and our incarnation")
    func pingIsAcked() {
        var instance = Self.knowing(upTo: 3)
        instance.receive(.ping(sequence: 42, gossip: []), from: NodeID(2))
        let sends = Fixtures.sends(instance.takeEffects())
        #expect(sends.count == 1)
        #expect(
            sends.first?.message
                == .ack(sequence: 42, target: NodeID(1), incarnation: 0, gossip: sends.first!.message.members)
        )
        #expect(sends.first?.to == .node(NodeID(2), address: "10.0.0.2:7946"))
    }

    @Test("An unanswered probe escalates to k ping requests, then suspicion; missing nacks count against us")
    func probeEscalates() throws {
        let settings = SWIM.Settings.default
        var instance = Self.knowing(upTo: 5)
        let (target, sequence) = try #require(Self.tickUntilPing(&instance))
        for _ in 0..<(settings.probeTimeout - 1) { instance.tick() }
        #expect(!Fixtures.sends(instance.takeEffects()).contains { Self.isPingRequest($0.message) })
        instance.tick()
        let requests = Fixtures.sends(instance.takeEffects()).compactMap { send -> NodeID? in
            guard case .pingRequest(sequence, target, "10.0.0.\(target):7946", _) = send.message else { return nil }
            return Fixtures.target(send.to)
        }
        #expect(requests.count == settings.indirectProbeCount)
        #expect(Set(requests).count == requests.count && !requests.contains(target))
        for _ in 0..<(settings.protocolPeriod - settings.probeTimeout) { instance.tick() }
        #expect(instance.member(target)?.status.description == "suspect(1)")
        #expect(instance.localHealth == settings.indirectProbeCount)
    }

    @Test("Nacks from every relay keep our local health: the target is the one in trouble")
    func nacksKeepHealth() throws {
        let settings = SWIM.Settings.default
        var instance = Self.knowing(upTo: 5)
        let (target, sequence) = try #require(Self.tickUntilPing(&instance))
        for _ in 0..<settings.probeTimeout { instance.tick() }
        let relays = Fixtures.sends(instance.takeEffects()).compactMap { Fixtures.target($0.to) }
        for relay in relays { instance.receive(.nack(sequence: sequence, target: target, gossip: []), from: relay) }
        for _ in 0..<(settings.protocolPeriod - settings.probeTimeout) { instance.tick() }
        #expect(instance.member(target)?.status.isSuspect == true)
        #expect(instance.localHealth == 0)
    }

    @Test("A timely direct ack ends the probe before any ping request")
    func directAckEndsProbe() throws {
        var instance = Self.knowing(upTo: 5)
        let (target, sequence) = try #require(Self.tickUntilPing(&instance))
        instance.receive(.ack(sequence: sequence, target: target, incarnation: 0, gossip: []), from: target)
        for _ in 0..<instance.settings.protocolPeriod { instance.tick() }
        #expect(instance.member(target)?.status.isAlive == true)
        #expect(!Fixtures.sends(instance.takeEffects()).contains { Self.isPingRequest($0.message) })
    }

    @Test("An ack relayed after the ping requests also ends the probe, and does not count as healthy")
    func relayedAckEndsProbe() throws {
        var instance = Self.knowing(upTo: 5)
        // One failed probe first, so there is health to lose.
        _ = try #require(Self.tickUntilPing(&instance))
        for _ in 0..<(instance.settings.protocolPeriod - 1) { instance.tick() }
        _ = instance.takeEffects()
        let (target, sequence) = try #require(Self.tickUntilPing(&instance))
        let health = instance.localHealth
        #expect(health > 0)
        for _ in 0..<((health + 1) * instance.settings.probeTimeout) { instance.tick() }
        let relay = try #require(
            Fixtures.sends(instance.takeEffects()).first { Self.isPingRequest($0.message) }.flatMap {
                Fixtures.target($0.to)
            }
        )
        instance.receive(.ack(sequence: sequence, target: target, incarnation: 0, gossip: []), from: relay)
        // Up to the probe's own deadline: later probes of silent members would move health again.
        for _ in 0..<((health + 1) * (instance.settings.protocolPeriod - instance.settings.probeTimeout)) {
            instance.tick()
        }
        #expect(instance.member(target)?.status.isAlive == true)
        #expect(instance.localHealth == health)
    }

    @Test("Local health stretches the probe timeout")
    func healthStretchesTimeouts() throws {
        let settings = SWIM.Settings.default
        var instance = Self.knowing(upTo: 4)
        // The first probe fails and its relays stay silent: health rises by the missing nacks.
        _ = try #require(Self.tickUntilPing(&instance))
        for _ in 0..<(settings.protocolPeriod - 1) { instance.tick() }
        _ = instance.takeEffects()
        let (target, sequence) = try #require(Self.tickUntilPing(&instance))
        let scale = instance.localHealth + 1
        #expect(scale > 1)
        for _ in 0..<(scale * settings.probeTimeout - 1) { instance.tick() }
        #expect(!Fixtures.sends(instance.takeEffects()).contains { Self.isPingRequest($0.message) })
        instance.tick()
        let request = Fixtures.sends(instance.takeEffects()).contains {
            if case .pingRequest(sequence, target, _, _) = $0.message { true } else { false }
        }
        #expect(request)
    }

    @Test("A relay forwards the target's ack, or nacks after 80% of the probe timeout")
    func relayForwardsOrNacks() throws {
        var instance = Self.knowing(upTo: 3)
        instance.receive(
            .pingRequest(sequence: 7, target: NodeID(3), targetAddress: "x:1", gossip: []),
            from: NodeID(2)
        )
        let pings = Fixtures.sends(instance.takeEffects())
        guard case .ping(let own, _) = try #require(pings.first).message else {
            Issue.record("expected a ping, got \(pings)")
            return
        }
        #expect(pings.first?.to == .node(NodeID(3), address: "10.0.0.3:7946"))
        instance.receive(.ack(sequence: own, target: NodeID(3), incarnation: 4, gossip: []), from: NodeID(3))
        let forwarded = Fixtures.sends(instance.takeEffects())
        #expect(forwarded.count == 1)
        if case .ack(7, NodeID(3), 4, _) = forwarded.first?.message {} else { Issue.record("got \(forwarded)") }

        instance.receive(
            .pingRequest(sequence: 8, target: NodeID(3), targetAddress: "x:1", gossip: []),
            from: NodeID(2)
        )
        _ = instance.takeEffects()
        var nacks: [SWIM.Message] = []
        for tick in 1...instance.settings.nackTimeoutForTests {
            instance.tick()
            let sent = Fixtures.sends(instance.takeEffects()).map(\.message).filter {
                if case .nack = $0 { true } else { false }
            }
            #expect(sent.isEmpty || tick == instance.settings.nackTimeoutForTests)
            nacks += sent
        }
        #expect(nacks.count == 1)
        if case .nack(8, NodeID(3), _) = nacks.first {} else { Issue.record("got \(nacks)") }
    }

    @Test("A member that hears itself suspected refutes with the next incarnation and gossips it")
    func refutesSuspicion() {
        var instance = Self.knowing(upTo: 3)
        instance.receive(.gossip([Fixtures.member(1, status: Fixtures.suspect(2))]), from: NodeID(2))
        #expect(instance.myself.incarnation == 1)
        #expect(instance.myself.status.isAlive)
        #expect(instance.localHealth == 1)
        instance.receive(.ping(sequence: 1, gossip: []), from: NodeID(3))
        let ack = Fixtures.sends(instance.takeEffects()).first?.message
        #expect(ack?.members.contains { $0.id == NodeID(1) && $0.incarnation == 1 && $0.status.isAlive } == true)
        // A dead verdict is refuted the same way; a stale one is ignored.
        instance.receive(.gossip([Fixtures.member(1, incarnation: 1, status: .dead)]), from: NodeID(2))
        #expect(instance.myself.incarnation == 2)
        instance.receive(.gossip([Fixtures.member(1, incarnation: 1, status: .dead)]), from: NodeID(2))
        #expect(instance.myself.incarnation == 2)
    }

    @Test("A restarted member outbids the records of its previous life")
    func restartOutbidsOldLife() {
        var instance = Fixtures.instance(1)
        instance.receive(.gossip([Fixtures.member(1, incarnation: 5)]), from: NodeID(2))
        #expect(instance.myself.incarnation == 6)
        #expect(instance.localHealth == 0)
        // A forged maximum cannot be outbid and is ignored rather than trapping.
        instance.receive(.gossip([Fixtures.member(1, incarnation: .max, status: .dead)]), from: NodeID(2))
        #expect(instance.myself.incarnation == 6)
    }

    @Test("A suspect is declared dead when its timeout runs out, sooner with more confirmations")
    func suspicionExpires() {
        var instance = Self.knowing(upTo: 5)
        instance.receive(.gossip([Fixtures.member(2, status: Fixtures.suspect(3))]), from: NodeID(3))
        #expect(instance.remainingSuspicionTicks(of: NodeID(2)) == 2400)
        instance.receive(.gossip([Fixtures.member(2, status: Fixtures.suspect(3, 4, 5, 1))]), from: NodeID(4))
        #expect(instance.remainingSuspicionTicks(of: NodeID(2)) == 400)
        for _ in 0..<399 { instance.tick() }
        #expect(instance.member(NodeID(2))?.status.isSuspect == true)
        instance.tick()
        #expect(instance.member(NodeID(2))?.status == .dead)
    }

    @Test(
        "Suspicion timeout: max with one suspecter, min with K confirmations, scaled by log10 n",
        arguments: [
            (members: 5, confirmations: 0, ticks: 2400), (5, 1, 1400), (5, 2, 816), (5, 3, 400), (5, 9, 400),
            (3, 0, 2400), (3, 1, 400), (2, 0, 400), (100, 0, 4800), (100, 3, 800),
        ]
    )
    func suspicionTimeout(members: Int, confirmations: Int, ticks: Int) {
        #expect(SWIM.Settings.default.suspicionTimeout(confirmations: confirmations, liveMembers: members) == ticks)
    }

    @Test("Dead and left tombstones are not resurrected by stale gossip, and expire")
    func tombstones() {
        var settings = SWIM.Settings()
        settings.tombstonePeriods = 2
        var instance = Self.knowing(upTo: 3, settings: settings)
        instance.receive(.gossip([Fixtures.member(2, incarnation: 3, status: .dead)]), from: NodeID(3))
        instance.receive(.gossip([Fixtures.member(2, incarnation: 3)]), from: NodeID(3))
        instance.receive(.pushPull(members: [Fixtures.member(2, incarnation: 2)], isReply: true), from: NodeID(3))
        #expect(instance.member(NodeID(2))?.status == .dead)
        var removed: [NodeID] = []
        for _ in 0..<(3 * settings.protocolPeriod) {
            instance.tick()
            for effect in instance.takeEffects() {
                if case .memberRemoved(let member) = effect { removed.append(member.id) }
            }
        }
        #expect(removed == [NodeID(2)])
        #expect(instance.member(NodeID(2)) == nil)
    }

    @Test("Leaving marks us left, tells the live members, stops probing and keeps answering")
    func leave() {
        var instance = Self.knowing(upTo: 4)
        instance.leave()
        #expect(instance.myself.status == .left)
        let told = Fixtures.sends(instance.takeEffects()).compactMap { send -> NodeID? in
            guard case .gossip(let members) = send.message, members.first?.status == .left else { return nil }
            return Fixtures.target(send.to)
        }
        #expect(Set(told) == [NodeID(2), NodeID(3), NodeID(4)])
        for _ in 0..<(3 * instance.settings.protocolPeriod) { instance.tick() }
        #expect(Fixtures.sends(instance.takeEffects()).isEmpty)
        instance.receive(.ping(sequence: 9, gossip: [Fixtures.member(1)]), from: NodeID(2))
        let answer = Fixtures.sends(instance.takeEffects()).first?.message
        #expect(answer?.members.contains { $0.id == NodeID(1) && $0.status == .left } == true)
    }

    @Test("Join contacts every seed but our own address, and again each period until someone answers")
    func joinRetries() {
        var instance = Fixtures.instance(1)
        instance.join(seeds: ["10.0.0.1:7946", "10.0.0.2:7946", "10.0.0.3:7946"])
        let first = Fixtures.sends(instance.takeEffects()).map(\.to)
        #expect(first == [.address("10.0.0.2:7946"), .address("10.0.0.3:7946")])
        for _ in 0..<instance.settings.protocolPeriod { instance.tick() }
        #expect(Fixtures.sends(instance.takeEffects()).filter { Self.isSeedContact($0.to) }.count == 2)
        instance.receive(.pushPull(members: [Fixtures.member(2)], isReply: true), from: NodeID(2))
        _ = instance.takeEffects()
        for _ in 0..<(2 * instance.settings.protocolPeriod) { instance.tick() }
        #expect(!Fixtures.sends(instance.takeEffects()).contains { Self.isSeedContact($0.to) })
    }
}

extension SWIM.Settings {
    /// 80% of the probe timeout, where a relay nacks.
    var nackTimeoutForTests: Int { max(1, probeTimeout * 8 / 10) }
}
