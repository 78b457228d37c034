import RillModel

extension SWIM {
    /// One member's SWIM state machine. Feed it `tick()`, `receive(_:from:)` and the local commands; drain what
    /// it wants done with `takeEffects()`. All randomness comes from the generator given at init, and nothing
    /// depends on hash order, so a seeded run replays exactly.
    public struct Instance: Sendable {
        public let settings: Settings
        /// Our own record as we gossip it.
        public internal(set) var myself: Member
        /// Ticks so far.
        public internal(set) var now: Tick = .zero
        /// Lifeguard's local health score in `0..<settings.maxLocalHealth`; 0 is healthy. Probe timeouts
        /// stretch by `localHealth + 1`, so a node that is slow itself waits longer before blaming others.
        public internal(set) var localHealth = 0

        var random: SplitMix64
        /// Every other member we know, tombstones included.
        var others: [NodeID: Member] = [:]
        /// How many of `others` are alive or suspect.
        var liveOthers = 0
        /// The suspects among `others`, checked every tick against their timeouts.
        var suspects: Set<NodeID> = []
        /// When each dead or left member got that status here; it is forgotten `tombstonePeriods` later.
        var tombstones: [NodeID: Tick] = [:]

        /// Probe targets in a shuffled round-robin order (SWIM §4.3): reshuffled at each wrap, newcomers
        /// inserted at random positions, so every member is probed within two rounds.
        var probeOrder: [NodeID] = []
        var probeIndex = 0
        /// The probe in flight; one at a time, so a slow probe delays the next rather than overlapping it.
        var probe: Probe?
        var nextProbeAt: Tick
        /// Probes we run for others (`pingRequest`), by the sequence of our own ping to the target.
        var relays: [UInt64: Relay] = [:]
        var sequence: UInt64

        /// Records still being spread, by member.
        var broadcasts: [NodeID: Broadcast] = [:]
        var broadcastCounter: UInt64 = 0

        var nextPushPullAt: Tick
        var seeds: [String] = []
        var nextSeedContactAt: Tick = .zero

        var effects: [Effect] = []

        /// A member that knows only itself until `join(seeds:)` or a peer's message.
        ///
        /// - Parameters:
        ///   - incarnation: start above any incarnation this id used before (a persisted counter or a clock
        ///     reading), so peers take the restarted member at once; from a lower one it still rejoins, by
        ///     refuting the first record of its old life it hears.
        ///   - random: the only source of chance, seeded by the caller.
        public init(
            id: NodeID,
            zone: Zone,
            role: Role,
            apiAddress: String,
            peerAddress: String,
            incarnation: UInt64 = 0,
            settings: Settings = .default,
            random: SplitMix64
        ) {
            precondition(settings.isValid, "invalid SWIM settings: \(settings)")
            self.settings = settings
            self.myself = Member(
                id: id,
                zone: zone,
                role: role,
                apiAddress: apiAddress,
                peerAddress: peerAddress,
                incarnation: incarnation
            )
            self.random = random
            // Random phases, so members that start together do not probe and sync in lockstep.
            self.nextProbeAt = Tick(UInt64.random(in: 1...UInt64(settings.protocolPeriod), using: &self.random))
            self.nextPushPullAt = Tick(
                UInt64.random(in: 1...UInt64(settings.pushPullPeriods * settings.protocolPeriod), using: &self.random)
            )
            self.sequence = UInt64(UInt32.random(in: 0...UInt32.max, using: &self.random))
        }

        // MARK: - Views

        /// Every member we know, ourselves and tombstones included, by id.
        public var members: [Member] {
            ([myself] + others.values).sorted { $0.id < $1.id }
        }

        /// The record of `id`, ourselves included.
        public func member(_ id: NodeID) -> Member? {
            id == myself.id ? myself : others[id]
        }

        /// Alive and suspect members, ourselves included unless we left: the n of every log(n) here.
        public var liveMemberCount: Int { liveOthers + (myself.status.isLive ? 1 : 0) }

        // MARK: - Inputs

        /// Advances time by one tick: runs the probe schedule, the relays, the suspicion timers, push-pull,
        /// seed contact and tombstone expiry that fall due.
        public mutating func tick() {
            now = now.advanced(by: 1)
            expireTombstones()
            // After leaving we only answer; probing would suspect members that rightly ignore us.
            guard !myself.status.isLeft else { return }
            advanceProbe()
            advanceRelays()
            checkSuspicions()
            if probe == nil, now >= nextProbeAt { startProbe() }
            if now >= nextPushPullAt { startPushPull() }
            if now >= nextSeedContactAt, liveOthers == 0, !seeds.isEmpty { contactSeeds() }
        }

        /// Handles one message from the member `sender` (the transport's authenticated peer id): merges what
        /// it carries, then answers it.
        public mutating func receive(_ message: Message, from sender: NodeID) {
            guard sender != myself.id else { return }
            let isPushPull = if case .pushPull = message { true } else { false }
            for member in message.members { merge(member, from: sender, fromFullState: isPushPull) }
            switch message {
            case .ping(let sequence, _):
                onPing(sequence: sequence, from: sender)
            case .pingRequest(let sequence, let target, let targetAddress, _):
                guard !myself.status.isLeft else { return }
                onPingRequest(sequence: sequence, target: target, targetAddress: targetAddress, from: sender)
            case .ack(let sequence, let target, let incarnation, _):
                onAck(sequence: sequence, target: target, incarnation: incarnation, from: sender)
            case .nack(let sequence, let target, _):
                onNack(sequence: sequence, target: target, from: sender)
            case .pushPull(_, let isReply):
                if !isReply { send(.pushPull(members: fullState, isReply: true), to: sender) }
            case .gossip:
                break
            }
        }

        /// Everything to do since the last call, in order.
        public mutating func takeEffects() -> [Effect] {
            guard !effects.isEmpty else { return [] }
            let taken = effects
            effects = []
            return taken
        }

        // MARK: - Helpers

        /// Where to reach `id`: by its gossiped address, or on its own connection when we do not know it yet.
        func destination(_ id: NodeID) -> Destination {
            .node(id, address: others[id]?.peerAddress)
        }

        /// Queues `message` for the member `id`.
        mutating func send(_ message: Message, to id: NodeID) {
            effects.append(.send(message, to: destination(id)))
        }

        /// A fresh probe sequence number.
        mutating func nextSequence() -> UInt64 {
            sequence &+= 1
            return sequence
        }

        /// Ids of other members whose status passes `include`, ascending, so random picks replay by seed.
        func otherIDs(where include: (Status) -> Bool) -> [NodeID] {
            others.values.filter { include($0.status) }.map(\.id).sorted()
        }

        /// Our state for a push-pull: ourselves and every member we know, tombstones included.
        var fullState: [Member] { members }
    }
}
