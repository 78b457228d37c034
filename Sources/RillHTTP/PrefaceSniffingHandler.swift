import NIOCore
import NIOTLS

/// The cleartext API port's protocol choice: holds the first bytes until `PrefaceSniffer` decides, then tells the
/// `NIOTypedApplicationProtocolNegotiationHandler` behind it as TLS's ALPN would (`h2`, or no protocol for
/// HTTP/1.1), passes the held bytes on and leaves the pipeline. One negotiation handler so serves cleartext and TLS.
final class PrefaceSniffingHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var sniffer = PrefaceSniffer()
    private var held: ByteBuffer?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        let decision = sniffer.feed(bytes.readableBytesView)
        if held == nil {
            held = bytes
        } else {
            held!.writeBuffer(&bytes)
        }
        if decision != .needMore { decide(decision, context: context) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Nothing passes on before the decision.
        if sniffer.decision != .needMore { context.fireChannelReadComplete() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A connection closed mid-preface goes to HTTP/1.1, whose handlers end it as they would any torn request.
        if sniffer.decision == .needMore { decide(sniffer.end(), context: context) }
        context.fireChannelInactive()
    }

    private func decide(_ decision: PrefaceSniffer.Decision, context: ChannelHandlerContext) {
        let negotiated = decision == .http2 ? "h2" : nil
        context.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: negotiated))
        if let bytes = held {
            held = nil
            context.fireChannelRead(wrapInboundOut(bytes))
            context.fireChannelReadComplete()
        }
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }
}

@available(*, unavailable)
extension PrefaceSniffingHandler: Sendable {}
