import NIOCore
import NIOPosix
import RillModel
import RillTransport
import Synchronization
import Testing

/// Records the frames a raw test client receives and completes `closed` with them when the server hangs up.
final class FrameRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = PeerFrame

    private let frames = Mutex<[PeerFrame]>([])
    let closed: EventLoopPromise<[PeerFrame]>

    init(closed: EventLoopPromise<[PeerFrame]>) { self.closed = closed }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        frames.withLock { $0.append(frame) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed.succeed(frames.withLock { $0 })
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Opens a plain TCP connection to `port`, writes `bytes`, and returns what the server sent before closing.
func rawExchange(port: Int, bytes: [UInt8]) async throws -> [PeerFrame] {
    let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
    let closed = eventLoop.makePromise(of: [PeerFrame].self)
    let channel = try await ClientBootstrap(group: eventLoop)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder()))
                try channel.pipeline.syncOperations.addHandler(FrameRecorder(closed: closed))
            }
        }
        .connect(host: "127.0.0.1", port: port)
        .get()
    var buffer = channel.allocator.buffer(capacity: bytes.count)
    buffer.writeBytes(bytes)
    try await channel.writeAndFlush(buffer)
    do {
        return try await closed.futureResult.get()
    } catch {
        channel.close(promise: nil)
        throw error
    }
}

@Suite struct HostilePeerTests {
    /// A long handshake timeout, so a quick close can only come from the decoder's error.
    static func patientSettings() -> TransportSettings {
        var settings = testSettings()
        settings.handshakeTimeout = .seconds(60)
        return settings
    }

    @Test func garbageClosesTheConnectionAtOnce() async throws {
        let a = try await TestNode.start(1, settings: Self.patientSettings())
        try await withNodes([a]) {
            let start = ContinuousClock.now
            let answered = try await rawExchange(port: a.port, bytes: [0xFF, 0xFF, 0xFF, 0xFF, 1, 1, 0, 0])
            #expect(answered.isEmpty)
            #expect(ContinuousClock.now - start < .seconds(30))
        }
    }

    @Test func helloOfAnotherProtocolVersionIsRefusedWithAReason() async throws {
        let a = try await TestNode.start(1, settings: Self.patientSettings())
        try await withNodes([a]) {
            var hello = PeerFrame.hello(
                PeerFrame.Hello(clusterID: "cluster-a", nodeID: NodeID(5), generation: 1, channel: .raft)
            ).encoded
            hello[4] = PeerProtocol.version + 1
            let answered = try await rawExchange(port: a.port, bytes: hello)
            guard case .helloAck(false, let reason)? = answered.first else {
                Issue.record("expected a refusing helloAck, got \(answered)")
                return
            }
            #expect(reason.contains("protocol version"))
            #expect(a.transport.stats.refusedHandshakes == 1)
        }
    }

    @Test func helloOfAnotherClusterIsRefusedWithAReason() async throws {
        let a = try await TestNode.start(1, settings: Self.patientSettings())
        try await withNodes([a]) {
            let hello = PeerFrame.hello(
                PeerFrame.Hello(clusterID: "other", nodeID: NodeID(5), generation: 1, channel: .rpc)
            ).encoded
            let answered = try await rawExchange(port: a.port, bytes: hello)
            #expect(answered.count == 1)
            guard case .helloAck(false, let reason)? = answered.first else {
                Issue.record("expected a refusing helloAck, got \(answered)")
                return
            }
            #expect(reason.contains("other"))
        }
    }

    @Test func raftFrameBeforeHelloIsAViolation() async throws {
        let a = try await TestNode.start(1, settings: Self.patientSettings())
        try await withNodes([a]) {
            let answered = try await rawExchange(port: a.port, bytes: PeerFrame.heartbeatFrame.encoded)
            #expect(answered.isEmpty)
            #expect(a.inbox.count == 0)
        }
    }
}
