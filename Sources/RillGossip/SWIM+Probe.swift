import RillModel

extension SWIM {
    /// Our probe of one member in the current protocol period.
    struct Probe: Sendable {
        var target: NodeID
        /// The target's incarnation when the probe began: a failure suspects that incarnation only, so a
        /// refutation that arrived meanwhile wins.
        var incarnation: UInt64
        var sequence: UInt64
        var targetAddress: String
        /// When to ask others to probe the target.
        var indirectAt: Tick
        /// When the probe fails and the target becomes suspect.
        var deadline: Tick
        var indirectSent = false
        /// The members asked to relay; each should answer with an ack or a nack.
        var relays: [NodeID] = []
        var nacks: Set<NodeID> = []
    }

    /// A probe we run for another member's `pingRequest`.
    struct Relay: Sendable {
        var origin: NodeID
        var originSequence: UInt64
        var target: NodeID
        var nackAt: Tick
        var expiresAt: Tick
        var nacked = false
    }
}

extension SWIM.Instance {
    // MARK: - Our probes

    /// Starts this period's probe: a ping to the next member in the round, with deadlines stretched by local
    /// health.
    mutating func startProbe() {
        nextProbeAt = now.advanced(by: settings.protocolPeriod)
        guard let target = nextProbeTarget(), let record = others[target] else { return }
        let scale = localHealth + 1
        let sequence = nextSequence()
        probe = SWIM.Probe(
            target: target,
            incarnation: record.incarnation,
            sequence: sequence,
            targetAddress: record.peerAddress,
            indirectAt: now.advanced(by: settings.probeTimeout * scale),
            deadline: now.advanced(by: settings.protocolPeriod * scale)
        )
        send(.ping(sequence: sequence, gossip: piggyback(to: target)), to: target)
    }

    /// The next live member in the round-robin order, reshuffling at the end of a round (memberlist
    /// `resetNodes`); nil when no other member is live.
    mutating func nextProbeTarget() -> NodeID? {
        var skipped = 0
        while true {
            if probeIndex >= probeOrder.count {
                probeOrder = otherIDs { $0.isLive }
                probeOrder.shuffle(using: &random)
                probeIndex = 0
                if probeOrder.isEmpty { return nil }
            }
            let id = probeOrder[probeIndex]
            probeIndex += 1
            if others[id]?.status.isLive == true { return id }
            skipped += 1
            if skipped > probeOrder.count { return nil }
        }
    }

    /// Puts a member that became live at a random place in the current round. Appending would make every
    /// instance probe a newcomer last, which lengthens the worst-case detection time (memberlist `aliveNode`).
    mutating func insertIntoProbeOrder(_ id: NodeID) {
        guard !probeOrder.contains(id) else { return }
        let position = Int.random(in: 0...probeOrder.count, using: &random)
        probeOrder.insert(id, at: position)
        if position < probeIndex { probeIndex += 1 }
    }

    /// Moves the probe in flight along: ping requests once the probe timeout passes, suspicion at the deadline.
    mutating func advanceProbe() {
        guard var current = probe else { return }
        if !current.indirectSent, now >= current.indirectAt {
            current.indirectSent = true
            current.relays = randomAliveOthers(count: settings.indirectProbeCount, excluding: current.target)
            for relay in current.relays {
                let request = SWIM.Message.pingRequest(
                    sequence: current.sequence,
                    target: current.target,
                    targetAddress: current.targetAddress,
                    gossip: piggyback(to: relay)
                )
                send(request, to: relay)
            }
            probe = current
        }
        if now >= current.deadline {
            probe = nil
            // Lifeguard §4.3: each missing nack suggests our own messages are not getting through; with no one
            // to ask, the failure itself counts against us.
            let missedNacks = current.relays.count - current.nacks.count
            adjustLocalHealth(by: current.relays.isEmpty ? 1 : missedNacks)
            suspect(current.target, incarnation: current.incarnation)
        }
    }

    /// An ack ends our probe if it answers it, or is passed on to the member we relayed for.
    mutating func onAck(sequence: UInt64, target: NodeID, incarnation: UInt64, from sender: NodeID) {
        if let current = probe, current.sequence == sequence, current.target == target {
            probe = nil
            // Only a timely direct answer is evidence that we are healthy (memberlist `probeNode`).
            if !current.indirectSent { adjustLocalHealth(by: -1) }
            return
        }
        if let relay = relays[sequence], relay.target == target, sender == target {
            relays[sequence] = nil
            let ack = SWIM.Message.ack(
                sequence: relay.originSequence,
                target: target,
                incarnation: incarnation,
                gossip: piggyback(to: relay.origin)
            )
            send(ack, to: relay.origin)
        }
        // Anything else is an answer to a probe already decided.
    }

    /// A relay's nack for our probe: evidence that our own messages get through.
    mutating func onNack(sequence: UInt64, target: NodeID, from sender: NodeID) {
        guard var current = probe, current.sequence == sequence, current.target == target,
            current.relays.contains(sender)
        else { return }
        current.nacks.insert(sender)
        probe = current
    }

    // MARK: - Answering others

    /// Answers a probe, piggybacking what the prober should hear first.
    mutating func onPing(sequence: UInt64, from sender: NodeID) {
        let ack = SWIM.Message.ack(
            sequence: sequence,
            target: myself.id,
            incarnation: myself.incarnation,
            gossip: piggyback(to: sender)
        )
        send(ack, to: sender)
    }

    /// Probes `target` for `sender`, or answers directly when we are the target.
    mutating func onPingRequest(sequence: UInt64, target: NodeID, targetAddress: String, from sender: NodeID) {
        if target == myself.id {
            onPing(sequence: sequence, from: sender)
            return
        }
        guard relays.count < settings.maxRelays else { return }
        let ownSequence = nextSequence()
        relays[ownSequence] = SWIM.Relay(
            origin: sender,
            originSequence: sequence,
            target: target,
            nackAt: now.advanced(by: settings.nackTimeout),
            expiresAt: now.advanced(by: settings.protocolPeriod)
        )
        let address = others[target]?.peerAddress ?? targetAddress
        effects.append(
            .send(.ping(sequence: ownSequence, gossip: piggyback(to: target)), to: .node(target, address: address))
        )
    }

    /// Nacks relays whose target stayed silent past the nack timeout and forgets those past a period.
    mutating func advanceRelays() {
        guard !relays.isEmpty else { return }
        for sequence in relays.keys.sorted() {
            guard var relay = relays[sequence] else { continue }
            if now >= relay.expiresAt {
                relays[sequence] = nil
                continue
            }
            if !relay.nacked, now >= relay.nackAt {
                relay.nacked = true
                relays[sequence] = relay
                let nack = SWIM.Message.nack(
                    sequence: relay.originSequence,
                    target: relay.target,
                    gossip: piggyback(to: relay.origin)
                )
                send(nack, to: relay.origin)
            }
        }
    }

    /// Up to `count` distinct alive members other than `excluded`, chosen at random.
    mutating func randomAliveOthers(count: Int, excluding excluded: NodeID) -> [NodeID] {
        var candidates = otherIDs { $0.isAlive }
        candidates.removeAll { $0 == excluded }
        let picked = min(count, candidates.count)
        for index in 0..<picked {
            candidates.swapAt(index, Int.random(in: index..<candidates.count, using: &random))
        }
        return Array(candidates.prefix(picked))
    }
}
