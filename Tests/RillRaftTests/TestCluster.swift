import RillModel
import RillRaft

/// A seeded generator for tests (SplitMix64).
struct TestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Raft nodes wired by hand: the test decides when Readys are handled and which messages are delivered.
/// Persistence always succeeds at once; applied entries are recorded per node.
struct TestCluster {
    var nodes: [NodeID: Raft.Core] = [:]
    /// Each node's stable log, shared with the node that reads it, and its saved hard state.
    var storage: [NodeID: Raft.MemoryStorage] = [:]
    var hardStates: [NodeID: Raft.HardState] = [:]
    /// Messages sent and not yet delivered, in send order.
    var inFlight: [Raft.Message] = []
    var applied: [NodeID: [LogEntry]] = [:]
    /// Nodes in different groups cannot talk; nil means no partition.
    var partition: [Set<NodeID>]? = nil
    var options: Raft.Options
    var random = TestRandom(seed: 42)

    init(
        voters: Int,
        learners: [UInt64] = [],
        options: Raft.Options = Raft.Options(electionTicks: 10, heartbeatTicks: 1)
    ) {
        self.options = options
        let voterIDs = (1...UInt64(voters)).map { NodeID($0) }
        let configuration = Raft.Configuration(voters: Set(voterIDs), learners: Set(learners.map { NodeID($0) }))
        for id in configuration.members.sorted() { add(id, configuration: configuration) }
    }

    var ids: [NodeID] { nodes.keys.sorted() }

    mutating func add(_ id: NodeID, configuration: Raft.Configuration) {
        let stable = storage[id] ?? Raft.MemoryStorage()
        storage[id] = stable
        nodes[id] = Raft.Core(
            id: id,
            configuration: configuration,
            hardState: hardStates[id] ?? Raft.HardState(),
            storage: stable,
            options: options,
            random: &random
        )
        applied[id] = []
    }

    subscript(_ id: UInt64) -> Raft.Core {
        get { nodes[NodeID(id)]! }
        set { nodes[NodeID(id)] = newValue }
    }

    /// Handles every pending Ready of `id`: persist, queue messages, record applied entries, advance.
    /// Returns the Readys handled.
    @discardableResult
    mutating func process(_ id: NodeID) -> [Raft.Ready] {
        var handled: [Raft.Ready] = []
        while var node = nodes[id], let ready = node.ready() {
            write(ready, to: node)
            if let hard = ready.hardState { hardStates[id] = hard }
            inFlight.append(contentsOf: ready.messages)
            inFlight.append(contentsOf: ready.messagesAfterPersist)
            applied[id, default: []].append(contentsOf: ready.committedEntries)
            node.advance(ready)
            nodes[id] = node
            handled.append(ready)
        }
        return handled
    }

    mutating func processAll() {
        for id in ids { process(id) }
    }

    func canTalk(_ a: NodeID, _ b: NodeID) -> Bool {
        guard let partition else { return true }
        return partition.contains { $0.contains(a) && $0.contains(b) }
    }

    /// Delivers the messages in flight now (not those they cause), handling Readys after each. Returns them.
    @discardableResult
    mutating func deliver(filter: (Raft.Message) -> Bool = { _ in true }) -> [Raft.Message] {
        let batch = inFlight
        inFlight = []
        var delivered: [Raft.Message] = []
        for message in batch {
            guard filter(message) else {
                inFlight.append(message)
                continue
            }
            guard canTalk(message.from, message.to), nodes[message.to] != nil else { continue }
            delivered.append(message)
            nodes[message.to]?.step(message)
            process(message.to)
        }
        return delivered
    }

    /// Processes and delivers until nothing moves. Returns every message delivered.
    @discardableResult
    mutating func stabilize() -> [Raft.Message] {
        var all: [Raft.Message] = []
        processAll()
        while !inFlight.isEmpty {
            all += deliver()
            processAll()
        }
        return all
    }

    /// Ticks `id` until it starts campaigning (at most two election timeouts).
    mutating func tickElection(_ id: UInt64) {
        for _ in 0..<(2 * options.electionTicks) {
            self[id].tick()
            if self[id].role != .follower { break }
        }
        process(NodeID(id))
    }

    mutating func tickHeartbeat(_ id: UInt64) {
        for _ in 0..<options.heartbeatTicks { self[id].tick() }
        process(NodeID(id))
    }

    /// Elects `id` and lets the cluster settle.
    mutating func elect(_ id: UInt64) {
        self[id].campaign()
        stabilize()
    }
}

/// A message as a peer would send it.
func message(_ from: UInt64, _ to: UInt64, term: UInt64, _ body: Raft.Body) -> Raft.Message {
    Raft.Message(from: NodeID(from), to: NodeID(to), term: Term(term), body: body)
}

/// Writes `ready`'s snapshot and entries to `node`'s stable storage, as the shell must before `advance`.
func write(_ ready: Raft.Ready, to node: Raft.Core) {
    let stable = node.log.storage as! Raft.MemoryStorage
    if let snapshot = ready.snapshot { stable.applySnapshot(snapshot) }
    stable.append(ready.entries)
}

/// Takes `node`'s Ready as a shell would (persisting instantly) and returns every message it sends.
func outgoing(_ node: inout Raft.Core) -> [Raft.Message] {
    guard let ready = node.ready() else { return [] }
    write(ready, to: node)
    node.advance(ready)
    return ready.messages + ready.messagesAfterPersist
}
