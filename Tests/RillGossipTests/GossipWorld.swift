import RillGossip
import RillModel

/// A seeded world of real `SWIM.Instance`s: a manual tick clock and a network that loses, delays and reorders
/// messages and can be partitioned, with members that crash, restart and pause (SIGSTOP: nothing runs, their
/// inbox fills, and on resume they read the backlog before their timers fire, as a process's socket reads
/// and timers race after SIGCONT). Every chance comes from one SplitMix64, so a seed replays the run.
struct GossipWorld {
    struct Settings {
        var nodeCount = 5
        /// Probability that a message is lost.
        var loss = 0.0
        /// Every message takes `latency` ticks plus a uniform jitter in `0...maxJitter` ticks, which reorders.
        var latency = 1
        var maxJitter = 0
        var swim = SWIM.Settings.default
    }

    enum State: Equatable {
        case running, paused, crashed
    }

    struct Slot {
        var instance: SWIM.Instance?
        var state: State
        let address: String
        /// Messages that reached a paused member, read when it resumes.
        var held: [Envelope] = []
        /// Starts so far; seeds each life's generator differently.
        var lives = 1
    }

    struct Envelope {
        var from: NodeID
        var to: NodeID
        var message: SWIM.Message
    }

    /// One view change: `observer` saw `new` replace `old` at `tick`.
    struct Change {
        var tick: UInt64
        var observer: NodeID
        var old: SWIM.Member?
        var new: SWIM.Member
    }

    /// One message as sent, before loss; recorded only while `recordSends` is on.
    struct Sent {
        var tick: UInt64
        var from: NodeID
        var to: NodeID
        var message: SWIM.Message
        /// Dropped by the loss draw (partitions are not counted here).
        var lost: Bool
    }

    let seed: UInt64
    let settings: Settings
    private(set) var now: UInt64 = 0
    private var random: SplitMix64
    private(set) var slots: [Slot]
    /// In-flight messages by delivery tick, a ring over the largest delay.
    private var inFlight: [[Envelope]]
    /// Partition group of each node (index = id − 1); members of different groups cannot talk.
    private var groups: [Int]?
    private(set) var changes: [Change] = []
    var recordSends = false
    private(set) var sends: [Sent] = []
    private(set) var delivered = 0
    private(set) var dropped = 0

    init(seed: UInt64, settings: Settings = Settings()) {
        self.seed = seed
        self.settings = settings
        self.random = SplitMix64(seed: seed)
        self.inFlight = Array(repeating: [], count: settings.latency + settings.maxJitter + 1)
        self.slots = (1...settings.nodeCount).map { index in
            Slot(instance: nil, state: .crashed, address: "10.0.0.\(index):7946")
        }
        for id in ids { start(id, incarnation: 0) }
    }

    var ids: [NodeID] { (1...settings.nodeCount).map { NodeID(UInt64($0)) } }
    var period: Int { settings.swim.protocolPeriod }
    var addresses: [String] { slots.map(\.address) }

    func slot(_ id: NodeID) -> Slot { slots[index(id)] }
    func instance(_ id: NodeID) -> SWIM.Instance? { slots[index(id)].instance }
    /// Members that are running now (not paused, not crashed).
    var running: [NodeID] { ids.filter { slots[index($0)].state == .running } }

    private func index(_ id: NodeID) -> Int { Int(id.rawValue) - 1 }

    // MARK: - Faults

    /// Starts `id` afresh (first start or restart) and has it join through every address.
    mutating func start(_ id: NodeID, incarnation: UInt64) {
        let slotIndex = index(id)
        let lives = slots[slotIndex].lives
        var instance = SWIM.Instance(
            id: id,
            zone: Zone("az-\(id.rawValue % 3)"),
            role: .node,
            apiAddress: "10.0.0.\(id):4567",
            peerAddress: slots[slotIndex].address,
            incarnation: incarnation,
            settings: settings.swim,
            random: SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ id.rawValue &* 1_000_003 &+ UInt64(lives))
        )
        instance.join(seeds: addresses)
        slots[slotIndex].instance = instance
        slots[slotIndex].state = .running
        slots[slotIndex].held = []
        slots[slotIndex].lives += 1
        drain(id)
    }

    /// Has `id` leave gracefully; it keeps answering until crashed.
    mutating func leave(_ id: NodeID) {
        slots[index(id)].instance?.leave()
        drain(id)
    }

    mutating func publishHints(_ id: NodeID, _ hints: [SWIM.LeadershipHint]) {
        slots[index(id)].instance?.setLeadershipHints(hints)
        drain(id)
    }

    /// Kills `id`: its state is gone and messages to it are lost.
    mutating func crash(_ id: NodeID) {
        slots[index(id)].instance = nil
        slots[index(id)].state = .crashed
        slots[index(id)].held = []
    }

    mutating func pause(_ id: NodeID) {
        precondition(slots[index(id)].state == .running)
        slots[index(id)].state = .paused
    }

    /// Resumes `id`: it reads everything that arrived while it was stopped, then ticks on from where its
    /// clock stopped (missed ticks do not replay, as with a timer-driven shell).
    mutating func resume(_ id: NodeID) {
        precondition(slots[index(id)].state == .paused)
        slots[index(id)].state = .running
        let held = slots[index(id)].held
        slots[index(id)].held = []
        for envelope in held { deliver(envelope) }
    }

    /// Splits the network: members in different lists cannot exchange messages (in flight ones included).
    mutating func partition(_ sides: [[NodeID]]) {
        var groups = Array(repeating: -1, count: settings.nodeCount)
        for (group, side) in sides.enumerated() { for id in side { groups[index(id)] = group } }
        self.groups = groups
    }

    mutating func heal() { groups = nil }

    func canTalk(_ a: NodeID, _ b: NodeID) -> Bool {
        guard let groups else { return true }
        return groups[index(a)] == groups[index(b)]
    }

    // MARK: - Running

    mutating func step() {
        now += 1
        let bucket = Int(now % UInt64(inFlight.count))
        let arriving = inFlight[bucket]
        inFlight[bucket] = []
        for envelope in arriving { deliver(envelope) }
        for id in ids where slots[index(id)].state == .running {
            slots[index(id)].instance?.tick()
            drain(id)
        }
    }

    mutating func run(ticks: Int) {
        for _ in 0..<ticks { step() }
    }

    mutating func run(periods: Int) { run(ticks: periods * period) }

    /// Steps until `condition` holds, checking after every tick; returns the ticks taken, nil past `maxTicks`.
    mutating func run(maxTicks: Int, until condition: (GossipWorld) -> Bool) -> Int? {
        for elapsed in 0...maxTicks {
            if condition(self) { return elapsed }
            if elapsed < maxTicks { step() }
        }
        return nil
    }

    private mutating func deliver(_ envelope: Envelope) {
        let target = index(envelope.to)
        guard canTalk(envelope.from, envelope.to) else {
            dropped += 1
            return
        }
        switch slots[target].state {
        case .crashed:
            dropped += 1
        case .paused:
            slots[target].held.append(envelope)
        case .running:
            delivered += 1
            slots[target].instance?.receive(envelope.message, from: envelope.from)
            drain(envelope.to)
        }
    }

    private mutating func drain(_ id: NodeID) {
        guard let effects = slots[index(id)].instance?.takeEffects(), !effects.isEmpty else { return }
        for effect in effects {
            switch effect {
            case .send(let message, let destination):
                send(message, from: id, to: destination)
            case .memberChanged(let old, let new):
                changes.append(Change(tick: now, observer: id, old: old, new: new))
            case .memberRemoved:
                break
            }
        }
    }

    private mutating func send(_ message: SWIM.Message, from: NodeID, to destination: SWIM.Destination) {
        let to: NodeID
        switch destination {
        case .node(let id, _):
            to = id
        case .address(let address):
            guard let found = slots.firstIndex(where: { $0.address == address }) else { return }
            to = NodeID(UInt64(found + 1))
        }
        let lost = settings.loss > 0 && Double(random.next() >> 11) * 0x1.0p-53 < settings.loss
        if recordSends { sends.append(Sent(tick: now, from: from, to: to, message: message, lost: lost)) }
        guard to != from else { return }
        guard !lost, canTalk(from, to) else {
            dropped += 1
            return
        }
        let jitter = settings.maxJitter > 0 ? Int(random.next() % UInt64(settings.maxJitter + 1)) : 0
        let delay = settings.latency + jitter
        inFlight[Int((now + UInt64(delay)) % UInt64(inFlight.count))].append(
            Envelope(from: from, to: to, message: message)
        )
    }

    // MARK: - Views

    /// `observer`'s record of `id`, nil when it does not know `id` or is not running.
    func view(of id: NodeID, by observer: NodeID) -> SWIM.Member? {
        slots[index(observer)].instance?.member(id)
    }

    /// Whether every running member other than `id` sees `id` with a status that passes `check`.
    func everyone(sees id: NodeID, _ check: (SWIM.Status) -> Bool) -> Bool {
        running.allSatisfy { observer in
            observer == id || view(of: id, by: observer).map { check($0.status) } == true
        }
    }

    /// Whether all running members see all running members alive, each at its own current incarnation.
    var converged: Bool {
        let live = running
        return live.allSatisfy { observer in
            live.allSatisfy { id in
                guard let record = view(of: id, by: observer), let own = instance(id)?.myself else { return false }
                return record.status.isAlive && record.incarnation == own.incarnation
            }
        }
    }

    /// Changes in which someone other than `except` was seen suspect, dead or left.
    func falseAccusations(except: Set<NodeID> = []) -> [Change] {
        changes.filter { !except.contains($0.new.id) && !$0.new.status.isAlive }
    }
}
