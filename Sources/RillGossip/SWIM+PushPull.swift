import RillModel

extension SWIM.Instance {
    // MARK: - Joining

    /// Contacts `seeds` (peer addresses, `host:port`) with our full state now, and again every
    /// `joinRetryPeriods` while no other member is alive or suspect. Our own address is skipped, so every
    /// member may be given the same list.
    public mutating func join(seeds: [String]) {
        for seed in seeds where seed != myself.peerAddress && !self.seeds.contains(seed) {
            self.seeds.append(seed)
        }
        contactSeeds()
    }

    /// Adds one seed and contacts it now.
    public mutating func addSeed(_ address: String) {
        guard address != myself.peerAddress else { return }
        if !seeds.contains(address) { seeds.append(address) }
        effects.append(.send(.pushPull(members: fullState, isReply: false), to: .address(address)))
    }

    /// A push-pull to every seed: the seed merges our state (learning us) and answers with its own, which is
    /// memberlist's join.
    mutating func contactSeeds() {
        nextSeedContactAt = now.advanced(by: settings.joinRetryPeriods * settings.protocolPeriod)
        guard !myself.status.isLeft else { return }
        let state = fullState
        for seed in seeds { effects.append(.send(.pushPull(members: state, isReply: false), to: .address(seed))) }
    }

    // MARK: - Anti-entropy

    /// Every `pushPullPeriods`: a full-state exchange with one random alive member, which repairs whatever
    /// piggybacking missed, and one with a random dead member. The second is what heals a partition: once both
    /// sides have declared each other dead, nobody probes across, and only a push-pull lets each side hear
    /// its own death and refute it (Serf's reconnect does the same for memberlist).
    mutating func startPushPull() {
        nextPushPullAt = now.advanced(by: settings.pushPullPeriods * settings.protocolPeriod)
        let alive = otherIDs { $0.isAlive }
        let dead = otherIDs { $0.isDead }
        guard !alive.isEmpty || !dead.isEmpty else { return }
        let state = fullState
        if let peer = alive.randomElement(using: &random) { send(.pushPull(members: state, isReply: false), to: peer) }
        if let peer = dead.randomElement(using: &random) { send(.pushPull(members: state, isReply: false), to: peer) }
    }

    // MARK: - Leaving and forgetting

    /// Leaves gracefully: marks us left at our incarnation, which nothing but a later incarnation overrides,
    /// and tells up to `leaveFanout` live members directly; piggybacking tells the rest. Afterwards the
    /// instance only answers. The shell should deliver the effects and keep answering for about a protocol
    /// period before it stops.
    public mutating func leave() {
        guard !myself.status.isLeft else { return }
        updateMyself { $0.status = .left }
        probe = nil
        var targets = otherIDs { $0.isLive }
        targets.shuffle(using: &random)
        for target in targets.prefix(settings.leaveFanout) { send(.gossip([myself]), to: target) }
    }

    /// Forgets dead and left members `tombstonePeriods` after they got that status. Checked once a period;
    /// a tombstone's exact age does not matter.
    mutating func expireTombstones() {
        guard !tombstones.isEmpty, now.rawValue % UInt64(settings.protocolPeriod) == 0 else { return }
        let lifetime = UInt64(settings.tombstonePeriods) * UInt64(settings.protocolPeriod)
        for id in tombstones.keys.sorted() {
            guard let since = tombstones[id], now.ticks(since: since) >= lifetime else { continue }
            tombstones[id] = nil
            broadcasts[id] = nil
            if let member = others.removeValue(forKey: id) { effects.append(.memberRemoved(member)) }
        }
    }
}
