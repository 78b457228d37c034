import Foundation
import Logging
import RillGossip
import RillModel
import RillTransport
import Synchronization

/// The shell around one `SWIM.Instance`: ticks it from a real clock, feeds it what the peer transport
/// receives on the gossip channel, and carries out its effects. Nodes and routers run one each.
///
/// The instance is driven under one lock, so ticks and received messages are handled one at a time in the
/// order they happen; effects are carried out after the lock is released (sends never block).
public final class GossipAgent: Sendable {
    public let transport: PeerTransport
    private let instance: Mutex<SWIM.Instance>
    private let tickLength: Duration
    /// What ticks the instance: `ContinuousClock` in processes, a manual clock in tests (STYLE §4).
    private let clock: any Clock<Duration>
    private let logger: Logger
    private let metrics: GossipMetrics
    private let observers: Mutex<[@Sendable (SWIM.Member?, SWIM.Member) -> Void]>
    /// `SWIM.Instance.isCutOff`, kept with every change of a member under the instance's lock: the forwarder
    /// reads it before every call it forwards, so it must not take that lock or copy the member list.
    private let cutOff = Atomic<Bool>(false)
    private let loop: Mutex<Task<Void, Never>?>

    /// Ticks one wake-up may catch up on. A process that was stopped (SIGSTOP, a long GC-like stall) must not
    /// jump its suspicion timers past the refutations it could not yet hear.
    static let maximumCatchUpTicks = 5

    public init(
        transport: PeerTransport,
        myself: SWIM.Member,
        settings: SWIM.Settings = .default,
        tickLength: Duration = .milliseconds(10),
        seed: UInt64,
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger
    ) {
        self.clock = clock
        self.transport = transport
        self.instance = Mutex(
            SWIM.Instance(
                id: myself.id,
                zone: myself.zone,
                role: myself.role,
                apiAddress: myself.apiAddress,
                peerAddress: myself.peerAddress,
                incarnation: myself.incarnation,
                settings: settings,
                random: SplitMix64(seed: seed)
            )
        )
        self.tickLength = tickLength
        var logger = logger
        logger[metadataKey: "component"] = "gossip"
        self.logger = logger
        self.metrics = GossipMetrics()
        self.observers = Mutex([])
        self.loop = Mutex(nil)
    }

    /// Starts ticking and listening, and contacts `seeds` (peer addresses) until another member answers.
    public func start(seeds: [String]) {
        transport.setGossipHandler { [weak self] payload, peer in self?.received(payload, from: peer) }
        drive { $0.join(seeds: seeds) }
        let task = Task { [weak self] in
            guard let self else { return }
            await self.run()
        }
        loop.withLock { $0 = task }
        logger.info("gossip started", metadata: ["seeds": "\(seeds.joined(separator: ","))"])
    }

    /// Leaves gracefully (peers mark us left at once rather than suspecting us), then stops ticking.
    public func leave() async {
        drive { $0.leave() }
        // One protocol period of answering, so the departure spreads before the connections close.
        try? await clock.sleep(for: tickLength * 20)
        stop()
    }

    public func stop() {
        loop.withLock { task in
            task?.cancel()
            task = nil
        }
        transport.setGossipHandler { _, _ in }
    }

    /// Called on every change of any member's record (ourselves included), after the change; must not block.
    public func observe(_ observer: @escaping @Sendable (_ old: SWIM.Member?, _ new: SWIM.Member) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    /// An incarnation above any this id used in an earlier life: the wall clock in milliseconds. A member
    /// refutes about once per suspicion, far below a thousand a second, so its next life still starts higher.
    public static func startingIncarnation() -> UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970 * 1000))
    }

    // MARK: - Views

    /// Every member this process knows, itself and tombstones included.
    public var members: [SWIM.Member] { instance.withLock { $0.members } }

    public var myself: SWIM.Member { instance.withLock { $0.myself } }

    /// Whether this process sees no other node alive while it knows of some (`SWIM.isCutOff`); up to date
    /// before the observers hear of the change that made it so. Lock-free.
    public var isCutOff: Bool { cutOff.load(ordering: .relaxed) }

    public func member(_ id: NodeID) -> SWIM.Member? { instance.withLock { $0.member(id) } }

    /// The newest leadership hint per Raft group across live members.
    public func leadershipHints() -> [RaftGroupID: SWIM.LeadershipHint] { instance.withLock { $0.leadershipHints() } }

    /// Publishes the groups this member leads; nothing is sent when the list did not change.
    public func setLeadershipHints(_ hints: [SWIM.LeadershipHint]) { drive { $0.setLeadershipHints(hints) } }

    /// Publishes one more group this member leads now, without waiting for the next full list: routers abandon
    /// calls to a replaced leader when they learn of its successor (`LeaderBoard`).
    public func addLeadershipHint(_ hint: SWIM.LeadershipHint) { drive { $0.addLeadershipHint(hint) } }

    /// Lifeguard's local health score (0 is healthy).
    public var localHealth: Int { instance.withLock { $0.localHealth } }

    // MARK: - Driving

    private func run() async {
        // A method of the clock, so the existential opens into a concrete clock for the loop.
        await clock.tickGossip(every: tickLength, catchingUpAtMost: Self.maximumCatchUpTicks) { due in
            self.drive { instance in
                for _ in 0..<due { instance.tick() }
            }
        }
    }

    private func received(_ payload: [UInt8], from peer: NodeID) {
        let message: SWIM.Message
        do {
            message = try SWIM.Message(decoding: payload)
        } catch {
            logger.warning("unreadable gossip message", metadata: ["peer": "\(peer)", "error": "\(error)"])
            return
        }
        drive { $0.receive(message, from: peer) }
    }

    /// Runs `body` on the instance, then carries out what it asked for.
    private func drive(_ body: (inout SWIM.Instance) -> Void) {
        let (effects, counts) = instance.withLock { instance -> ([SWIM.Effect], GossipMetrics.Counts?) in
            body(&instance)
            let effects = instance.takeEffects()
            let membersChanged = effects.contains { if case .send = $0 { false } else { true } }
            if membersChanged { cutOff.store(instance.isCutOff, ordering: .relaxed) }
            let counts = membersChanged ? GossipMetrics.Counts(instance.members, myself: instance.myself.id) : nil
            return (effects, counts)
        }
        guard !effects.isEmpty else { return }
        if let counts { metrics.update(counts) }
        let observers = observers.withLock { $0 }
        for effect in effects {
            switch effect {
            case .send(let message, let destination):
                if case .ping = message { metrics.probed() }
                send(message, to: destination)
            case .memberChanged(let old, let new):
                log(old, new)
                metrics.changed(old, new, myself: transport.nodeID)
                for observer in observers { observer(old, new) }
            case .memberRemoved(let member):
                logger.debug("member forgotten", metadata: ["member": "\(member.id)"])
            }
        }
    }

    private func send(_ message: SWIM.Message, to destination: SWIM.Destination) {
        switch destination {
        case .node(let id, let address): transport.sendGossip(message.encoded(), to: id, address: address)
        case .address(let address): transport.sendGossip(message.encoded(), to: nil, address: address)
        }
    }

    /// Status changes at info (operators watch these); payload-only changes (hints) at trace.
    private func log(_ old: SWIM.Member?, _ new: SWIM.Member) {
        let metadata: Logger.Metadata = [
            "member": "\(new.id)", "zone": "\(new.zone)", "role": "\(new.role)", "incarnation": "\(new.incarnation)",
            "address": "\(new.peerAddress)",
        ]
        guard let old else {
            logger.info("member joined: \(new.status)", metadata: metadata)
            return
        }
        if old.status.name != new.status.name || old.incarnation != new.incarnation {
            logger.info("member \(old.status) -> \(new.status)", metadata: metadata)
        } else {
            logger.trace("member updated", metadata: metadata)
        }
    }
}

extension Clock where Duration == Swift.Duration {
    /// Calls `tick` with the number of ticks due (at least one) every `tickLength` until the task is cancelled,
    /// catching up on at most `limit` missed ticks at a time: a process that was stopped (SIGSTOP, a long stall)
    /// must not jump its suspicion timers past the refutations it could not yet hear.
    fileprivate func tickGossip(
        every tickLength: Duration,
        catchingUpAtMost limit: Int,
        _ tick: (Int) -> Void
    ) async {
        var next = now.advanced(by: tickLength)
        while !Task.isCancelled {
            try? await sleep(until: next, tolerance: nil)
            let now = self.now
            var due = 0
            while next <= now, due < limit {
                due += 1
                next = next.advanced(by: tickLength)
            }
            // Whatever is still due after the cap is forgotten, not replayed.
            if next <= now { next = now.advanced(by: tickLength) }
            tick(max(due, 1))
        }
    }
}
