import Logging
import NIOCore
import NIOPosix
import RillModel
import Synchronization

/// The node-to-node transport of one node: Raft messages of all groups and internal RPCs, over TCP.
///
/// Connections: per peer, one outbound Raft connection and one outbound RPC connection, each dialled lazily
/// by this node (so a node pair has one Raft connection per direction); inbound connections deliver what
/// peers send. Every connection starts with `hello`/`helloAck`; a peer of another cluster or protocol
/// version is refused and logged.
///
/// Inbound Raft batches go to `onRaftMessages`, called on an event loop: it must not block (hand the batch
/// to the node's own executor). Inbound requests run the request handler in a task group owned by the
/// transport; `shutdown()` cancels and awaits them.
public final class PeerTransport: Sendable {
    public let nodeID: NodeID
    /// The cluster UUID every handshake checks; empty while this node is still looking for its cluster.
    public var clusterID: String { cluster.withLock { $0 } }
    private let cluster: Mutex<String>
    public let generation: UInt64
    public let settings: TransportSettings
    public let group: any EventLoopGroup
    private let logger: Logger
    let counters = TransportCounters()
    let faults: Mutex<FaultState>
    let state: Mutex<State>

    public typealias RaftHandler = @Sendable ([GroupMessage], NodeID) -> Void
    public typealias RequestHandler = @Sendable (NodeID, [UInt8]) async -> [UInt8]
    public typealias GossipHandler = @Sendable ([UInt8], NodeID) -> Void

    struct State {
        var addresses: [NodeID: PeerAddress] = [:]
        var raftLinks: [NodeID: RaftLink] = [:]
        var rpcLinks: [NodeID: RPCLink] = [:]
        var gossipLinks: [String: GossipLink] = [:]
        /// The last gossip connection each member reached us on: where answers to strangers go.
        var gossipChannels: [NodeID: any Channel] = [:]
        var gossipHandler: GossipHandler = { _, _ in }
        var inbound: [ObjectIdentifier: any Channel] = [:]
        var server: (any Channel)?
        var raftHandler: RaftHandler
        var peerGoneHandler: @Sendable (NodeID) -> Void = { _ in }
        var requestHandler: RequestHandler
        var servesOnEventLoop: @Sendable ([UInt8]) -> Bool = { _ in false }
        var requests: AsyncStream<InboundRequest>.Continuation?
        var serving: Task<Void, Never>?
        var isShutdown = false
    }

    public init(
        nodeID: NodeID,
        clusterID: String,
        generation: UInt64,
        group: any EventLoopGroup,
        logger: Logger = Logger(label: "rill.transport"),
        settings: TransportSettings = TransportSettings(),
        onRaftMessages: @escaping RaftHandler = { _, _ in },
        requestHandler: @escaping RequestHandler = { _, _ in [] }
    ) {
        self.nodeID = nodeID
        self.cluster = Mutex(clusterID)
        self.generation = generation
        self.group = group
        var logger = logger
        logger[metadataKey: "node"] = "\(nodeID)"
        self.logger = logger
        self.settings = settings
        self.faults = Mutex(FaultState(seed: settings.faultSeed))
        self.state = Mutex(State(raftHandler: onRaftMessages, requestHandler: requestHandler))
    }

    /// Receives inbound Raft batches with the sending node; called on an event loop, must not block.
    public var onRaftMessages: RaftHandler {
        get { state.withLock { $0.raftHandler } }
        set { state.withLock { $0.raftHandler = newValue } }
    }

    /// Told when a peer's Raft connection closed and redialling it was refused: nothing listens on its peer
    /// port, so its process is gone (`RaftLink`). Called on an event loop; it must not block.
    public var onPeerGone: @Sendable (NodeID) -> Void {
        get { state.withLock { $0.peerGoneHandler } }
        set { state.withLock { $0.peerGoneHandler = newValue } }
    }

    /// Answers inbound requests; the returned bytes go back as the response.
    ///
    /// - Parameter servesOnEventLoop: says, from its bytes, whether a request is small and quick enough to be
    ///   served on the event loop it arrived on, rather than on the global pool. A forwarded write then goes
    ///   from socket to Raft group to answer on one thread, without two pool wake-ups on the way; anything
    ///   that may take long (a read, a big batch) must stay off the loop, where it would delay every message.
    public func setRequestHandler(
        _ handler: @escaping RequestHandler,
        servesOnEventLoop: @escaping @Sendable ([UInt8]) -> Bool = { _ in false }
    ) {
        state.withLock {
            $0.requestHandler = handler
            $0.servesOnEventLoop = servesOnEventLoop
        }
    }

    /// Counters since start.
    public var stats: TransportStats { counters.snapshot }

    /// Counters since start by peer, for every peer this node exchanged anything with. Traffic of connections
    /// whose peer is not known by id (discovery calls, gossip to a seed address) counts only in `stats`.
    public var trafficByPeer: [NodeID: PeerTraffic] { counters.peerSnapshot }

    var connector: PeerConnector {
        PeerConnector(
            group: group,
            settings: settings,
            counters: counters,
            logger: logger,
            nodeID: nodeID,
            clusterID: clusterID,
            generation: generation
        )
    }

    /// Joins the cluster found by discovery: later handshakes carry `id`. Only a node without a cluster may.
    public func adopt(clusterID id: String) {
        cluster.withLock { current in
            precondition(current.isEmpty || current == id, "a node never changes clusters")
            current = id
        }
    }

    // MARK: - Listening

    /// Starts accepting peer connections on `host:port` (port 0 picks a free one) and returns the bound port.
    public func listen(host: String, port: Int) async throws -> Int {
        let counters = counters
        let cluster: @Sendable () -> String = { [weak self] in self?.clusterID ?? "" }
        let logger = logger
        let handshakeTimeout = settings.handshakeTimeout
        let secret = settings.clusterSecret
        let tls = settings.tls
        var events = PeerConnectionEvents()
        events.closed = { [weak self] channel in self?.inboundClosed(channel) }
        events.raftReceived = { [weak self] messages, peer in self?.deliver(messages, from: peer) }
        events.requestReceived = { [weak self] request in self?.received(request) }
        events.gossipReceived = { [weak self] payload, peer, channel in
            self?.gossipArrived(payload, from: peer, on: channel)
        }
        let childEvents = events
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            // A restarted node must bind its port again at once, TIME_WAIT or not.
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [weak self] channel in
                // Tracked from the start, so shutdown also closes connections still in their handshake.
                self?.accepted(channel)
                return channel.eventLoop.makeCompletedFuture {
                    let handler = PeerConnectionHandler(
                        acceptingFor: cluster(),
                        secret: secret,
                        events: childEvents,
                        counters: counters,
                        handshakeTimeout: handshakeTimeout,
                        logger: logger
                    )
                    try PeerConnector.addPipeline(
                        to: channel,
                        counters: counters,
                        tls: tls.map { .accepting($0.server) },
                        handler: handler
                    )
                }
            }
            .bind(host: host, port: port)
            .get()
        let (stream, continuation) = AsyncStream.makeStream(of: InboundRequest.self)
        let refused = state.withLock { state -> Bool in
            guard !state.isShutdown, state.server == nil else { return true }
            state.server = server
            state.requests = continuation
            // Owned by the transport: shutdown() finishes the stream, cancels this task and awaits it.
            // On a loop, so that a request served there starts without a hop (see `setRequestHandler`).
            state.serving = Task(executorPreference: EventLoopTaskExecutor(group.next())) { [weak self] in
                await self?.serve(stream)
            }
            return false
        }
        if refused {
            try? await server.close()
            throw TransportError.shutdown
        }
        let boundPort = server.localAddress?.port ?? port
        logger.info("peer transport listening", metadata: ["host": "\(host)", "port": "\(boundPort)"])
        return boundPort
    }

    /// Runs inbound requests concurrently, each answered on the connection it came from.
    private func serve(_ requests: AsyncStream<InboundRequest>) async {
        await withDiscardingTaskGroup { group in
            for await request in requests {
                let (handler, servesOnEventLoop) = state.withLock { ($0.requestHandler, $0.servesOnEventLoop) }
                let executor: any TaskExecutor =
                    servesOnEventLoop(request.payload)
                    ? EventLoopTaskExecutor(request.channel.eventLoop) : globalConcurrentExecutor
                group.addTask(executorPreference: executor) { [weak self] in
                    let response = await handler(request.peer, request.payload)
                    guard !Task.isCancelled else { return }
                    let answer = { @Sendable in
                        request.channel.writeAndFlush(
                            PeerFrame.response(id: request.id, payload: response),
                            promise: nil
                        )
                    }
                    guard let self else { return answer() }
                    self.afterLinkDelay(to: request.peer, answer)
                }
            }
        }
    }

    private func accepted(_ channel: any Channel) {
        let refused = state.withLock { state -> Bool in
            guard !state.isShutdown else { return true }
            state.inbound[ObjectIdentifier(channel)] = channel
            return false
        }
        if refused { channel.close(promise: nil) }
    }

    private func inboundClosed(_ channel: any Channel) {
        state.withLock { state in
            state.inbound.removeValue(forKey: ObjectIdentifier(channel))
            state.gossipChannels = state.gossipChannels.filter { $0.value !== channel }
        }
    }

    private func deliver(_ messages: [GroupMessage], from peer: NodeID) {
        guard !dropInbound(messages.count, from: peer) else { return }
        let handler = state.withLock { $0.raftHandler }
        handler(messages, peer)
    }

    private func received(_ request: InboundRequest) {
        guard !dropInbound(1, from: request.peer) else { return }
        let continuation = state.withLock { $0.requests }
        continuation?.yield(request)
    }

    // MARK: - Peers

    /// Sets every peer's address; call again whenever membership changes. Links to removed peers close;
    /// links to moved peers redial. This node's own id is ignored.
    public func setPeers(_ addresses: [NodeID: (host: String, port: Int)]) {
        let next = addresses.filter { $0.key != nodeID }.mapValues { PeerAddress(host: $0.host, port: $0.port) }
        let (removedRaft, removedRPC, moved) = state.withLock { state in
            state.addresses = next
            let goneRaft = state.raftLinks.filter { next[$0.key] == nil }
            let goneRPC = state.rpcLinks.filter { next[$0.key] == nil }
            for key in goneRaft.keys { state.raftLinks.removeValue(forKey: key) }
            for key in goneRPC.keys { state.rpcLinks.removeValue(forKey: key) }
            return (Array(goneRaft.values), Array(goneRPC.values), (state.raftLinks, state.rpcLinks))
        }
        for link in removedRaft { link.close() }
        for link in removedRPC { link.close() }
        for (peer, link) in moved.0 { if let address = next[peer] { link.update(address: address) } }
        for (peer, link) in moved.1 { if let address = next[peer] { link.update(address: address) } }
    }

    private func raftLink(to peer: NodeID) -> RaftLink? {
        state.withLock { state in
            guard !state.isShutdown, let address = state.addresses[peer] else { return nil }
            if let link = state.raftLinks[peer] { return link }
            let link = RaftLink(peer: peer, address: address, connector: connector) { [weak self] peer in
                self?.onPeerGone(peer)
            }
            state.raftLinks[peer] = link
            return link
        }
    }

    /// Tells the transport that `peer` answers again (gossip saw it come back): a Raft link backing off from it
    /// redials now instead of at the end of a backoff that grew while the peer was down.
    public func peerIsBack(_ peer: NodeID) {
        let link = state.withLock { $0.raftLinks[peer] }
        link?.peerIsBack()
    }

    private func rpcLink(to peer: NodeID) -> RPCLink? {
        state.withLock { state in
            guard !state.isShutdown, let address = state.addresses[peer] else { return nil }
            if let link = state.rpcLinks[peer] { return link }
            let link = RPCLink(peer: peer, address: address, connector: connector) { [weak self] peer in
                self?.isIsolated(peer) ?? false
            }
            state.rpcLinks[peer] = link
            return link
        }
    }

    // MARK: - Sending

    /// Queues Raft messages for `peer` and returns at once. Messages are batched into frames; when the peer's
    /// queue is full, or the peer is unknown or unreachable for long, messages are dropped and counted.
    public func send(_ messages: [GroupMessage], to peer: NodeID) {
        guard !messages.isEmpty else { return }
        let surviving = settings.faultInjection ? applyOutboundFaults(messages, to: peer) : messages
        guard !surviving.isEmpty else { return }
        guard let link = raftLink(to: peer) else {
            counters.droppedQueueFull(surviving.count, to: peer)
            return
        }
        afterLinkDelay(to: peer) { link.enqueue(surviving) }
    }

    /// Sends `payload` to `peer` on the RPC connection and returns the response.
    ///
    /// Throws `TransportError.unreachable` when the request provably never reached the peer (no address,
    /// refused, handshake failed, not written), `.timeout` when no response came within `timeout` after
    /// sending, `.connectionLost` when the connection broke after sending: the last two are indeterminate.
    /// `.silent` when the connection attempt got no answer at all within the connect timeout (nothing sent either).
    /// `.payloadTooLarge` when `payload` exceeds one frame. A response too large for a frame closes the RPC
    /// connection on the answering side, so the caller sees `.connectionLost`.
    /// `abandonment` lets another task stop the wait early (`RequestAbandonment`).
    public func request(
        _ payload: [UInt8],
        to peer: NodeID,
        timeout: Duration,
        abandonment: RequestAbandonment? = nil
    ) async throws(TransportError) -> [UInt8] {
        let deadline = NIODeadline.now() + timeout.timeAmount
        // id and length prefix take 18 bytes; a larger payload would fail in the encoder and close the connection.
        guard payload.count <= PeerFrame.maximumLength - 18 else { throw .payloadTooLarge }
        if settings.faultInjection, isIsolated(peer) {
            counters.droppedByFault(1, peer: peer)
            throw .unreachable
        }
        guard let link = rpcLink(to: peer) else {
            throw state.withLock { $0.isShutdown } ? .shutdown : .unreachable
        }
        // A request still waiting out an injected delay at its deadline was never written: unreachable.
        await waitLinkDelay(to: peer)
        return try await link.request(payload, deadline: deadline, abandonment: abandonment)
    }

    /// Sends one request to whoever listens at `host:port` over a connection of its own, closed afterwards.
    /// Discovery uses it: before a cluster forms, peers are known by address only.
    public func request(
        _ payload: [UInt8],
        toAddress host: String,
        port: Int,
        timeout: Duration
    ) async throws(TransportError) -> [UInt8] {
        guard payload.count <= PeerFrame.maximumLength - 18 else { throw .payloadTooLarge }
        guard !state.withLock({ $0.isShutdown }) else { throw .shutdown }
        let link = RPCLink(peer: NodeID(0), address: PeerAddress(host: host, port: port), connector: connector) { _ in
            false
        }
        defer { link.close() }
        return try await link.request(payload, deadline: NIODeadline.now() + timeout.timeAmount)
    }

    // MARK: - Shutdown

    /// Closes the listener and every connection, fails waiting requests and awaits running request handlers.
    public func shutdown() async {
        let (server, inbound, raftLinks, rpcLinks, requests, serving) = state.withLock { state in
            state.isShutdown = true
            defer {
                state.server = nil
                state.inbound = [:]
                state.raftLinks = [:]
                state.rpcLinks = [:]
                state.gossipLinks = [:]
                state.gossipChannels = [:]
                state.requests = nil
                state.serving = nil
            }
            for link in state.gossipLinks.values { link.close() }
            return (
                state.server, Array(state.inbound.values), Array(state.raftLinks.values),
                Array(state.rpcLinks.values), state.requests, state.serving
            )
        }
        try? await server?.close()
        for link in raftLinks { link.close() }
        for link in rpcLinks { link.close() }
        for channel in inbound { try? await channel.close() }
        requests?.finish()
        serving?.cancel()
        await serving?.value
        logger.debug("peer transport shut down")
    }
}
