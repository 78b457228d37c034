import NIOCore
import NIOPosix
import RillModel
import RillRaft
import RillTransport
import Synchronization
import Testing

struct WaitTimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `condition` until it holds or `timeout` passes: awaits a condition, never a fixed sleep.
func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(10),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// Records inbound Raft batches from a transport's callback (which runs on an event loop).
final class Inbox: Sendable {
    private let received = Mutex<[(from: NodeID, message: GroupMessage)]>([])

    var handler: PeerTransport.RaftHandler {
        { messages, from in self.received.withLock { $0 += messages.map { (from, $0) } } }
    }

    var messages: [GroupMessage] { received.withLock { $0.map(\.message) } }
    var count: Int { received.withLock { $0.count } }
    func messages(from peer: NodeID) -> [GroupMessage] {
        received.withLock { $0.filter { $0.from == peer }.map(\.message) }
    }
    func contains(term: UInt64) -> Bool {
        received.withLock { $0.contains { $0.message.message.term.rawValue == term } }
    }
}

/// A heartbeat whose term tags it, so tests can tell messages apart.
func heartbeat(from: NodeID, to: NodeID, tag: UInt64, group: RaftGroupID = .meta) -> GroupMessage {
    GroupMessage(
        group: group,
        message: Raft.Message(from: from, to: to, term: Term(tag), body: .heartbeat(commit: LogIndex(tag)))
    )
}

/// Whether the message is a heartbeat or its answer: the kinds the transport coalesces.
func isBeat(_ message: GroupMessage) -> Bool {
    switch message.message.body {
    case .heartbeat, .heartbeatResponse: true
    default: false
    }
}

/// An append carrying `bytes` of payload in one entry.
func append(from: NodeID, to: NodeID, tag: UInt64, bytes: Int) -> GroupMessage {
    let entry = LogEntry(
        term: Term(1),
        index: LogIndex(tag),
        kind: .records,
        timestampMillis: 1,
        payload: Array(repeating: UInt8(truncatingIfNeeded: tag), count: bytes)
    )
    return GroupMessage(
        group: .shard(streamID: "s", shard: ShardID(index: 0)),
        message: Raft.Message(
            from: from,
            to: to,
            term: Term(tag),
            body: .appendEntries(prevIndex: LogIndex(tag - 1), prevTerm: Term(1), entries: [entry], commit: .zero)
        )
    )
}

/// Settings with short timeouts so failure paths finish quickly.
func testSettings(faults: Bool = false) -> TransportSettings {
    var settings = TransportSettings()
    settings.connectTimeout = .milliseconds(500)
    settings.handshakeTimeout = .seconds(1)
    settings.initialBackoff = .milliseconds(10)
    settings.maximumBackoff = .milliseconds(100)
    settings.faultInjection = faults
    return settings
}

/// A node under test: its transport, bound port and inbox.
struct TestNode {
    var id: NodeID
    var transport: PeerTransport
    var port: Int
    var inbox: Inbox

    static func start(
        _ id: UInt64,
        cluster: String = "cluster-a",
        port: Int = 0,
        settings: TransportSettings = testSettings(),
        generation: UInt64 = 1
    ) async throws -> TestNode {
        let inbox = Inbox()
        let transport = PeerTransport(
            nodeID: NodeID(id),
            clusterID: cluster,
            generation: generation,
            group: MultiThreadedEventLoopGroup.singleton,
            settings: settings,
            onRaftMessages: inbox.handler,
            requestHandler: { peer, payload in [UInt8(truncatingIfNeeded: peer.rawValue)] + payload.reversed() }
        )
        let bound = try await transport.listen(host: "127.0.0.1", port: port)
        return TestNode(id: NodeID(id), transport: transport, port: bound, inbox: inbox)
    }
}

/// Sends heartbeats from `from` to a peer that just restarted until one arrives: Raft resends on its own
/// ticks, modelled by this bounded loop (`waitUntil`'s deadline).
func resendUntilDelivered(from: TestNode, to peer: TestNode) async throws {
    var tag: UInt64 = 100
    try await waitUntil("delivery after restart") {
        tag += 1
        from.transport.send([heartbeat(from: from.id, to: peer.id, tag: tag)], to: peer.id)
        return peer.inbox.count > 0
    }
}

/// Tells every node where every other listens.
func connect(_ nodes: [TestNode]) {
    let addresses = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, (host: "127.0.0.1", port: $0.port)) })
    for node in nodes { node.transport.setPeers(addresses) }
}

/// Shuts every node down, even when the test failed midway.
@discardableResult
func withNodes<T>(_ nodes: [TestNode], _ body: () async throws -> T) async throws -> T {
    do {
        let result = try await body()
        for node in nodes { await node.transport.shutdown() }
        return result
    } catch {
        for node in nodes { await node.transport.shutdown() }
        throw error
    }
}

/// Sends one heartbeat from `a` to `b` and waits until it arrives, so the Raft link is up; returns how many
/// frames `b` had received by then, for tests that count the frames of what they send next.
func raftLinkUp(from a: TestNode, to b: TestNode) async throws -> Int {
    a.transport.send([heartbeat(from: a.id, to: b.id, tag: 1)], to: b.id)
    try await waitUntil("connected") { b.inbox.count == 1 }
    return b.transport.stats.framesReceived
}

/// A port on loopback where connection attempts go unanswered, as to a host cut off in the network: a listener
/// that never accepts, with a backlog of one, already taken. The kernel drops every further SYN.
struct SilentListener {
    let port: Int
    private let server: any Channel
    private let filler: any Channel

    static func start() async throws -> SilentListener {
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 0)
            .serverChannelOption(ChannelOptions.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = try #require(server.localAddress?.port)
        let filler = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        return SilentListener(port: port, server: server, filler: filler)
    }

    func close() async {
        try? await filler.close()
        try? await server.close()
    }
}
