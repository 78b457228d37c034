import NIOCore
import NIOPosix
import RillModel
import RillRaft
import Synchronization
import Testing

@testable import RillTransport

/// A version-1 node's Raft acceptor, as far as the wire goes: it answers the hello with an accepting
/// `helloAck` whose reason is empty, as version 1 did, and records every later frame with its version byte.
final class VersionOnePeer: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Received: Sendable {
        var pending: [UInt8] = []
        var greeted = false
        var versions: [UInt8] = []
        var frames: [PeerFrame] = []
        var undecodable = 0
    }

    let received = Mutex(Received())

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        let bytes = incoming.readBytes(length: incoming.readableBytes) ?? []
        let greet = received.withLock { state -> Bool in
            state.pending += bytes
            var greet = false
            while state.pending.count >= 4 {
                let length = state.pending[0..<4].reduce(0) { $0 << 8 | Int($1) }
                guard state.pending.count >= 4 + length else { break }
                let frame = Array(state.pending[0..<(4 + length)])
                state.pending.removeFirst(4 + length)
                guard state.greeted else {
                    state.greeted = true
                    greet = true
                    continue
                }
                state.versions.append(frame[4])
                if let decoded = try? PeerFrame(decoding: frame) {
                    state.frames.append(decoded)
                } else {
                    state.undecodable += 1
                }
            }
            return greet
        }
        guard greet else { return }
        // helloAck, version 1: accepted, empty reason.
        let ack: [UInt8] = [0, 0, 0, 7, 1, 2, 1, 0, 0, 0, 0]
        var out = context.channel.allocator.buffer(capacity: ack.count)
        out.writeBytes(ack)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    var messages: [GroupMessage] {
        received.withLock { state in
            state.frames.flatMap { frame -> [GroupMessage] in
                if case .raft(let messages) = frame { return messages }
                return []
            }
        }
    }
}

@Suite struct ProtocolVersionTests {
    @Test(arguments: [
        ("", UInt8(1)), ("version 2", 2), ("version 1", 1), ("version 9", 2), ("version 0", 1), ("version x", 1),
        ("no", 1),
    ])
    func theAcceptorsVersionComesFromItsAcceptReason(_ reason: String, _ version: UInt8) {
        #expect(PeerProtocol.version(fromAcceptReason: reason) == version)
    }

    @Test func aConnectorLearnsTheVersionTheAcceptorNames() {
        var machine = PeerConnectionHandler.StateMachine(role: .connector(peer: NodeID(2), channel: .raft))
        #expect(machine.frameReceived(.helloAck(accepted: true, reason: "")) == .handshakeCompleted(peerVersion: 1))
        machine = PeerConnectionHandler.StateMachine(role: .connector(peer: NodeID(2), channel: .raft))
        let answer = PeerFrame.helloAck(accepted: true, reason: PeerProtocol.acceptReason)
        #expect(machine.frameReceived(answer) == .handshakeCompleted(peerVersion: PeerProtocol.version))
    }

    @Test func aVersionOnePeerGetsHeartbeatsAsRaftFramesOfVersionOne() async throws {
        let peer = VersionOnePeer()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(peer) }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = try #require(server.localAddress?.port)
        let a = try await TestNode.start(1)
        a.transport.setPeers([NodeID(2): (host: "127.0.0.1", port: port)])
        try await withNodes([a]) {
            let beats = (0..<20).map { index in
                heartbeat(
                    from: a.id,
                    to: NodeID(2),
                    tag: UInt64(index + 1),
                    group: .shard(streamID: "s", shard: ShardID(index: UInt32(index)))
                )
            }
            for beat in beats { a.transport.send([beat], to: NodeID(2)) }
            try await waitUntil("the version-1 peer has every heartbeat") { peer.messages.count == beats.count }
            #expect(peer.messages == beats)
            let received = peer.received.withLock { $0 }
            #expect(received.undecodable == 0)
            #expect(!received.versions.isEmpty && received.versions.allSatisfy { $0 == 1 })
        }
        try await server.close()
    }
}
