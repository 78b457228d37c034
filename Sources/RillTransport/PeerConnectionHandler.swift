import Logging
import NIOCore
import NIOSSL
import RillModel

/// What a connection reports to its owner. Every callback runs on the connection's event loop and must not block.
struct PeerConnectionEvents: Sendable {
    var raftReceived: @Sendable ([GroupMessage], NodeID) -> Void = { _, _ in }
    var requestReceived: @Sendable (InboundRequest) -> Void = { _ in }
    var responseReceived: @Sendable (UInt64, [UInt8]) -> Void = { _, _ in }
    /// A gossip message and the channel it came on (answers to strangers go back on it).
    var gossipReceived: @Sendable ([UInt8], NodeID, any Channel) -> Void = { _, _, _ in }
    /// The channel may be writable again: drain queued messages.
    var writable: @Sendable (any Channel) -> Void = { _ in }
    /// An acceptor finished the handshake.
    var accepted: @Sendable (any Channel, PeerFrame.Hello) -> Void = { _, _ in }
    var closed: @Sendable (any Channel) -> Void = { _ in }
}

/// An RPC that arrived on an accepted connection, to be answered on `channel`.
struct InboundRequest: Sendable {
    var id: UInt64
    var payload: [UInt8]
    var peer: NodeID
    var channel: any Channel
}

/// The last handler of every peer connection: runs the handshake, then routes frames to the transport.
/// It never awaits; the transport's callbacks decide what to do with what arrives.
///
/// It also counts frames both ways: every frame the transport writes on the channel passes `write`, so the
/// senders need not count, and the per-peer counters are at hand without a lookup.
final class PeerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = PeerFrame
    typealias OutboundIn = PeerFrame
    typealias OutboundOut = PeerFrame

    private var stateMachine: StateMachine
    private let hello: PeerFrame.Hello?
    private let events: PeerConnectionEvents
    private let counters: TransportCounters
    /// The peer's counters for this kind of connection: known from the start when dialling, from the
    /// peer's `hello` when accepting (nil until then, and for the unnamed peer).
    private var link: LinkCounters?
    /// The connection's byte counter, told the peer once known (set by `PeerConnector.addPipeline`).
    var byteCounter: ByteCountingHandler?
    private let handshakeTimeout: Duration
    private var logger: Logger
    /// Completed once: on `helloAck`, on failure, or when the handler goes away (a no-op if already completed).
    private let handshakePromise: EventLoopPromise<UInt8>?
    private var handshakeTimer: Scheduled<Void>?

    /// A connector sends `hello` once active and completes `handshake` on the answer.
    init(
        connectingTo peer: NodeID,
        hello: PeerFrame.Hello,
        handshake: EventLoopPromise<UInt8>,
        events: PeerConnectionEvents,
        counters: TransportCounters,
        link: LinkCounters?,
        handshakeTimeout: Duration,
        logger: Logger
    ) {
        self.stateMachine = StateMachine(role: .connector(peer: peer, channel: hello.channel))
        self.hello = hello
        self.handshakePromise = handshake
        self.events = events
        self.counters = counters
        self.link = link
        self.handshakeTimeout = handshakeTimeout
        self.logger = logger
        self.logger[metadataKey: "peer"] = "\(peer)"
        self.logger[metadataKey: "channel"] = "\(hello.channel)"
    }

    /// An acceptor waits for `hello` and checks its cluster, and its proof of `secret` when there is one.
    init(
        acceptingFor clusterID: String,
        secret: [UInt8]? = nil,
        events: PeerConnectionEvents,
        counters: TransportCounters,
        handshakeTimeout: Duration,
        logger: Logger
    ) {
        self.stateMachine = StateMachine(role: .acceptor(clusterID: clusterID, secret: secret))
        self.hello = nil
        self.handshakePromise = nil
        self.events = events
        self.counters = counters
        self.handshakeTimeout = handshakeTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let link { byteCounter?.attribute(to: link) }
        if context.channel.isActive { start(context: context) }
    }

    /// A frame written on the channel (by a link, or an answer on an accepted connection).
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        countSent()
        context.write(data, promise: promise)
    }

    /// Counts one frame sent; the handler's own writes (from its context) do not pass `write`, so call it.
    private func countSent() {
        counters.framesSent.add(1, ordering: .relaxed)
        link?.framesSent.add(1, ordering: .relaxed)
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard handshakeTimer == nil, !stateMachine.isEstablished else { return }
        if let hello {
            context.writeAndFlush(wrapOutboundOut(.hello(hello)), promise: nil)
            countSent()
        }
        // A peer that never completes the handshake must not hold a connection (or a caller) forever.
        let timeout = handshakeTimeout.timeAmount
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        handshakeTimer = context.eventLoop.scheduleTask(in: timeout) {
            let handler = loopBound.value
            guard !handler.stateMachine.isEstablished else { return }
            handler.logger.warning("peer handshake timed out, closing")
            handler.stateMachine.failed()
            handler.handshakePromise?.fail(TransportError.unreachable)
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        counters.framesReceived.add(1, ordering: .relaxed)
        let action = stateMachine.frameReceived(frame, nowMillis: wallClockMillis())
        if case .accept(let hello) = action, link == nil,
            let peerLink = counters.peer(hello.nodeID)?.link(hello.channel)
        {
            // The peer is known now: its hello and everything after count for it.
            link = peerLink
            byteCounter?.attribute(to: peerLink)
        }
        link?.framesReceived.add(1, ordering: .relaxed)
        switch action {
        case .accept(let hello):
            handshakeTimer?.cancel()
            logger[metadataKey: "peer"] = "\(hello.nodeID)"
            logger[metadataKey: "channel"] = "\(hello.channel)"
            logger.debug("accepted peer connection", metadata: ["generation": "\(hello.generation)"])
            // The reason names our version: what the connector may send us (`PeerProtocol`).
            let ack = PeerFrame.helloAck(accepted: true, reason: PeerProtocol.acceptReason)
            context.writeAndFlush(wrapOutboundOut(ack), promise: nil)
            countSent()
            events.accepted(context.channel, hello)
        case .refuse(let reason):
            handshakeTimer?.cancel()
            logger.warning("refusing peer connection", metadata: ["reason": "\(reason)"])
            counters.refusedHandshakes.add(1, ordering: .relaxed)
            refuse(context: context, reason: reason)
        case .handshakeCompleted(let peerVersion):
            handshakeTimer?.cancel()
            handshakePromise?.succeed(peerVersion)
        case .handshakeRefused(let reason):
            handshakeTimer?.cancel()
            logger.warning("peer refused our connection", metadata: ["reason": "\(reason)"])
            handshakePromise?.fail(TransportError.refused(reason: reason))
            context.close(promise: nil)
        case .deliverRaft(let messages, let peer):
            events.raftReceived(messages, peer)
        case .deliverRequest(let id, let payload, let peer):
            events.requestReceived(InboundRequest(id: id, payload: payload, peer: peer, channel: context.channel))
        case .deliverResponse(let id, let payload):
            events.responseReceived(id, payload)
        case .deliverGossip(let payload, let peer):
            events.gossipReceived(payload, peer, context.channel)
        case .violation(let what):
            logger.warning("peer protocol violation, closing", metadata: ["reason": "\(what)"])
            handshakePromise?.fail(TransportError.unreachable)
            context.close(promise: nil)
        case .ignore:
            break
        }
    }

    /// Answers with a refusing `helloAck`, then closes once it is written.
    private func refuse(context: ChannelHandlerContext, reason: String) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.helloAck(accepted: false, reason: reason))).whenComplete { _ in
            channel.close(promise: nil)
        }
        countSent()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { events.writable(context.channel) }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let wasAwaitingHello: Bool
        if case .awaitingHello = stateMachine.state { wasAwaitingHello = true } else { wasAwaitingHello = false }
        if !stateMachine.isEstablished, Self.isTLSFailure(error) {
            // A peer without a certificate from the cluster CA, or one that does not speak TLS, or a dialled peer
            // whose certificate this node does not trust: say which, and from where, since nothing else will.
            let remote = context.channel.remoteAddress.map { "\($0)" } ?? "unknown"
            if wasAwaitingHello {
                counters.refusedHandshakes.add(1, ordering: .relaxed)
                logger.warning(
                    "refusing peer connection: TLS handshake failed (no certificate from the cluster CA?)",
                    metadata: ["remote": "\(remote)", "reason": "\(error)"]
                )
            } else {
                logger.warning(
                    "peer connection failed at the TLS handshake (certificates from different CAs?)",
                    metadata: ["remote": "\(remote)", "reason": "\(error)"]
                )
            }
            stateMachine.failed()
            handshakePromise?.fail(TransportError.unreachable)
            context.close(promise: nil)
            return
        }
        // Hostile or corrupt bytes end here: the decoder threw, nothing trapped; the connection goes.
        logger.warning("closing peer connection", metadata: ["error": "\(error)"])
        stateMachine.failed()
        handshakePromise?.fail(TransportError.unreachable)
        if wasAwaitingHello, case PeerFrameError.unsupportedVersion(let version) = error {
            // Tell the dialler why, so its log names the cause rather than a reset connection.
            counters.refusedHandshakes.add(1, ordering: .relaxed)
            let speaks = "\(PeerProtocol.oldestVersion) to \(PeerProtocol.version)"
            refuse(context: context, reason: "protocol version \(version) is not one of \(speaks)")
        } else {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        stateMachine.failed()
        handshakePromise?.fail(TransportError.unreachable)
        events.closed(context.channel)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        handshakePromise?.fail(TransportError.unreachable)
    }
}

extension PeerConnectionHandler {
    /// Whether `error` is a TLS handshake that failed (NIOSSL's handler sits below this one when the transport has
    /// `tls`): a refused or untrusted certificate, or bytes that are not TLS. A peer that went away mid-handshake
    /// (`uncleanShutdown`, a killed process) is an ordinary lost connection.
    static func isTLSFailure(_ error: any Error) -> Bool {
        if case NIOSSLError.handshakeFailed = error { return true }
        return error is BoringSSLError
    }
}
