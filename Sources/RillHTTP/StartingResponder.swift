import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL

/// What the API port answers while the node is still starting (looking for its cluster, replaying its
/// logs): `/health` 200, `/ready` 503 with the reason, any Kinesis call 503 with a retriable error, over
/// HTTP/1.1 or HTTP/2 and TLS as the API itself. So orchestrators see a live process that is not ready yet,
/// rather than a refused port.
public enum StartingResponder {
    /// Serves on `host:port` until the surrounding task is cancelled; `reason` is read per request.
    public static func run(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        logger: Logger,
        tls: NIOSSLContext? = nil,
        reason: @escaping @Sendable () -> String
    ) async throws {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                // The API's protocol choice, so an HTTP/2 client (h2c or ALPN) gets the same answers as HTTP/1.1.
                channel.eventLoop.makeCompletedFuture {
                    _ = try APIPipeline.configure(
                        channel,
                        tls: tls,
                        http1: { channel in
                            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                            try channel.pipeline.syncOperations.addHandler(Handler(reason: reason))
                        },
                        http2: { channel in
                            let configuration = APIPipeline.http2Configuration
                            _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                                mode: .server,
                                connectionConfiguration: configuration.connection,
                                streamConfiguration: configuration.stream
                            ) { stream in
                                stream.eventLoop.makeCompletedFuture {
                                    try stream.pipeline.syncOperations.addHandlers(
                                        HTTP2FramePayloadToHTTP1ServerCodec(),
                                        Handler(reason: reason)
                                    )
                                }
                            }
                        }
                    )
                }
            }
            .bind(host: host, port: port)
            .get()
        logger.debug("API answering as starting", metadata: ["address": "\(host):\(port)"])
        try await withTaskCancellationHandler {
            try await server.closeFuture.get()
        } onCancel: {
            server.close(promise: nil)
        }
    }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let reason: @Sendable () -> String

        init(reason: @escaping @Sendable () -> String) { self.reason = reason }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .head(let head) = unwrapInboundIn(data) else { return }
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            let (status, type, body): (HTTPResponseStatus, String, String)
            switch (head.method, path) {
            case (.GET, "/health"): (status, type, body) = (.ok, "text/plain; charset=utf-8", "ok\n")
            case (.GET, "/ready"):
                (status, type, body) = (.serviceUnavailable, "text/plain; charset=utf-8", reason() + "\n")
            default:
                let message = "The node is starting (\(reason())); retry."
                (status, type, body) = (
                    .serviceUnavailable, "application/x-amz-json-1.1",
                    "{\"__type\":\"InternalFailure\",\"message\":\"\(message)\"}"
                )
            }
            var headers = HTTPHeaders([
                ("Content-Type", type), ("Content-Length", "\(body.utf8.count)"), ("Connection", "close"),
            ])
            if head.method == .HEAD { headers.replaceOrAdd(name: "Content-Length", value: "0") }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                promise: nil
            )
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
        }
    }
}
