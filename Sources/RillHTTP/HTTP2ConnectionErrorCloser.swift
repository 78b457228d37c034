import NIOCore
import NIOHTTP2

/// Closes an HTTP/2 connection once NIOHTTP2 has answered a connection error with GOAWAY. `NIOHTTP2Handler` writes
/// the GOAWAY (RFC 9113 §5.4.1) and reports the error, but leaves the connection open; a peer that broke the
/// protocol would otherwise keep it, and its buffers, until the idle timeout. Stream errors are reported the
/// same way and answered with RST_STREAM: they leave the connection alone.
///
/// It watches the frames NIOHTTP2 writes (as its frame delegate) and sits behind it in the pipeline to see the
/// errors; both happen on the channel's event loop.
final class HTTP2ConnectionErrorCloser: ChannelInboundHandler, NIOHTTP2FrameDelegate {
    typealias InboundIn = HTTP2Frame

    /// A GOAWAY with an error code went out: the connection is over.
    private var goingAway = false

    func wroteFrame(_ frame: HTTP2Frame) {
        if case .goAway(_, let code, _) = frame.payload, code != .noError { goingAway = true }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard goingAway else { return }
        // The GOAWAY may still sit in NIOHTTP2's write buffer while a read is processed: flush it before closing.
        context.flush()
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension HTTP2ConnectionErrorCloser: Sendable {}
