import NIOCore
import NIOEmbedded
import NIOTLS
import Testing

@testable import RillHTTP

/// The cleartext protocol choice through an `EmbeddedChannel`: what the negotiation handler behind the sniffer is
/// told, and that every byte reaches it once, in order.
struct PrefaceSniffingHandlerTests {
    /// Records the user events and bytes that pass the sniffer.
    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var events: [TLSUserEvent] = []
        var bytes: [UInt8] = []

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? TLSUserEvent { events.append(event) }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            bytes += Array(buffer: unwrapInboundIn(data))
        }
    }

    private func run(_ chunks: [[UInt8]]) throws -> (Recorder, EmbeddedChannel) {
        let recorder = Recorder()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(PrefaceSniffingHandler(), recorder)
        for chunk in chunks { try channel.writeInbound(ByteBuffer(bytes: chunk)) }
        return (recorder, channel)
    }

    @Test func thePrefaceDrippedByteByByteChoosesH2AndPassesEveryByteOn() throws {
        let bytes = PrefaceSniffer.preface + [0, 0, 0, 4, 0, 0, 0, 0, 0]
        let (recorder, channel) = try run(bytes.map { [$0] })
        #expect(recorder.events == [.handshakeCompleted(negotiatedProtocol: "h2")])
        #expect(recorder.bytes == bytes)
        #expect(throws: (any Error).self) {
            try channel.pipeline.syncOperations.handler(type: PrefaceSniffingHandler.self)
        }
        _ = try channel.finish()
    }

    @Test func anHTTP1RequestIsPassedOnWithNoProtocol() throws {
        let request = Array("POST / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        let (recorder, channel) = try run([Array(request.prefix(1)), Array(request.dropFirst())])
        #expect(recorder.events == [.handshakeCompleted(negotiatedProtocol: nil)])
        #expect(recorder.bytes == request)
        _ = try channel.finish()
    }

    @Test func nothingPassesWhileThePrefixStillMatches() throws {
        let (recorder, channel) = try run([Array("PRI * HT".utf8)])
        #expect(recorder.events.isEmpty)
        #expect(recorder.bytes.isEmpty)
        try channel.writeInbound(ByteBuffer(string: "XP/1.1\r\n"))
        #expect(recorder.events == [.handshakeCompleted(negotiatedProtocol: nil)])
        #expect(recorder.bytes == Array("PRI * HTXP/1.1\r\n".utf8))
        _ = try channel.finish()
    }
}
