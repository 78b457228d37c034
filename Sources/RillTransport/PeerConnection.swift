import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RillModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a peer listens.
struct PeerAddress: Sendable, Equatable {
    var host: String
    var port: Int
}

/// Counts raw bytes next to the socket, so stats see exactly what crossed the wire.
///
/// Bytes also go to the peer's counters for this kind of connection once it is known (`attribute(to:)`): at
/// once for a dialled connection, after the peer's `hello` for an accepted one. What crossed before that
/// waits in `unattributed*` and moves over then, so the handshake counts too.
final class ByteCountingHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let counters: TransportCounters
    private var link: LinkCounters?
    private var unattributedReceived = 0
    private var unattributedSent = 0

    init(counters: TransportCounters) { self.counters = counters }

    /// From now on (and retroactively for this connection) bytes count for `link` too. On the event loop.
    func attribute(to link: LinkCounters) {
        guard self.link == nil else { return }
        self.link = link
        link.bytesReceived.add(unattributedReceived, ordering: .relaxed)
        link.bytesSent.add(unattributedSent, ordering: .relaxed)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).readableBytes
        counters.bytesReceived.add(bytes, ordering: .relaxed)
        if let link { link.bytesReceived.add(bytes, ordering: .relaxed) } else { unattributedReceived += bytes }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes = unwrapOutboundIn(data).readableBytes
        counters.bytesSent.add(bytes, ordering: .relaxed)
        if let link { link.bytesSent.add(bytes, ordering: .relaxed) } else { unattributedSent += bytes }
        context.write(data, promise: promise)
    }
}

extension Duration {
    /// The same span as NIO's `TimeAmount`.
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// Opens outbound connections and prepares accepted ones; shared by the Raft and RPC links.
struct PeerConnector: Sendable {
    let group: any EventLoopGroup
    let settings: TransportSettings
    let counters: TransportCounters
    let logger: Logger
    let nodeID: NodeID
    let clusterID: String
    let generation: UInt64

    /// Which end of a TLS connection a pipeline is.
    enum TLSRole {
        case accepting(NIOSSLContext)
        case dialling(NIOSSLContext)
    }

    /// Adds the frame pipeline: byte counter next to the socket (so it counts what crosses the wire), TLS when
    /// configured, then the codec, then `handler`.
    static func addPipeline(
        to channel: any Channel,
        counters: TransportCounters,
        tls: TLSRole?,
        handler: PeerConnectionHandler
    ) throws {
        let operations = channel.pipeline.syncOperations
        let bytes = ByteCountingHandler(counters: counters)
        handler.byteCounter = bytes
        try operations.addHandler(bytes)
        switch tls {
        case .accepting(let context):
            try operations.addHandler(NIOSSLServerHandler(context: context))
        case .dialling(let context):
            // No server name: peers are dialled by address and known by their CA, not by host name (`PeerTLS`).
            try operations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: nil))
        case nil:
            break
        }
        try operations.addHandler(ByteToMessageHandler(PeerFrameDecoder()))
        try operations.addHandler(MessageToByteHandler(PeerFrameEncoder()))
        try operations.addHandler(handler)
    }

    /// This node's hello for a new connection of `kind`, proving the cluster secret when it has one.
    func makeHello(for kind: PeerChannelKind) -> PeerFrame.Hello {
        var hello = PeerFrame.Hello(clusterID: clusterID, nodeID: nodeID, generation: generation, channel: kind)
        if let secret = settings.clusterSecret {
            hello.proof = HelloProof.make(
                for: hello,
                secret: secret,
                nowMillis: wallClockMillis(),
                nonce: (0..<HelloProof.nonceBytes).map { _ in UInt8.random(in: .min ... .max) }
            )
        }
        return hello
    }

    /// Dials `address`, says hello for `channel`, and succeeds with the channel once the peer accepts.
    /// Fails with `TransportError.unreachable` or `.refused` otherwise.
    func connect(
        to peer: NodeID,
        at address: PeerAddress,
        channel kind: PeerChannelKind,
        events: PeerConnectionEvents,
        countingAs member: NodeID? = nil
    ) -> EventLoopFuture<any Channel> {
        connectNegotiating(to: peer, at: address, channel: kind, events: events, countingAs: member).map(\.channel)
    }

    /// `connect`, also telling the protocol version the peer named when it accepted: what it can read.
    /// The traffic counts for `member` if given, else for `peer` (none when that is `NodeID(0)`).
    func connectNegotiating(
        to peer: NodeID,
        at address: PeerAddress,
        channel kind: PeerChannelKind,
        events: PeerConnectionEvents,
        countingAs member: NodeID? = nil
    ) -> EventLoopFuture<(channel: any Channel, peerVersion: UInt8)> {
        let eventLoop = group.next()
        let handshake = eventLoop.makePromise(of: UInt8.self)
        let hello = makeHello(for: kind)
        let counters = counters
        // Looked up once per connection, not per frame.
        let link = counters.peer(member ?? peer)?.link(kind)
        let logger = logger
        let handshakeTimeout = settings.handshakeTimeout
        let tls = settings.tls
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(settings.connectTimeout.timeAmount)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
        if let timeout = settings.unacknowledgedTimeout {
            bootstrap = bootstrap.channelOption(Self.tcpUserTimeout, value: Self.milliseconds(timeout))
        }
        let connected =
            bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = PeerConnectionHandler(
                        connectingTo: peer,
                        hello: hello,
                        handshake: handshake,
                        events: events,
                        counters: counters,
                        link: link,
                        handshakeTimeout: handshakeTimeout,
                        logger: logger
                    )
                    try PeerConnector.addPipeline(
                        to: channel,
                        counters: counters,
                        tls: tls.map { .dialling($0.client) },
                        handler: handler
                    )
                }
            }
            .connect(host: address.host, port: address.port)
        // If the connect fails before the handler exists the promise would leak; failing twice is a no-op.
        connected.whenFailure { handshake.fail($0) }
        return connected.flatMap { channel in
            handshake.futureResult.map { (channel, $0) }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
    }
}

extension PeerConnector {
    /// `TCP_USER_TIMEOUT` (netinet/tcp.h: level `IPPROTO_TCP`, option 18), which NIO has no name for.
    static let tcpUserTimeout = ChannelOptions.Types.SocketOption(
        level: NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_TCP)),
        name: NIOBSDSocket.Option(rawValue: 18)
    )

    static func milliseconds(_ duration: Duration) -> SocketOptionValue {
        SocketOptionValue(
            clamping: duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        )
    }
}

/// The wall time in milliseconds since the epoch, which a hello's proof is dated with (peers compare it with
/// their own clocks, so it cannot be a monotonic one).
func wallClockMillis() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}
