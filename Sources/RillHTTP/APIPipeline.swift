import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL
import NIOTLS

/// One API connection once its protocol is known: HTTP/1.1 served in order on the connection, or HTTP/2 whose
/// streams each arrive as the same kind of request/response channel.
enum APIConnection: Sendable {
    typealias RequestChannel = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    case http1(RequestChannel)
    /// The connection's channel (closed to end it) and its streams, each already an HTTP/1-shaped channel.
    case http2(any Channel, NIOHTTP2Handler.AsyncStreamMultiplexer<RequestChannel>)
}

/// Builds an API connection's pipeline: TLS with ALPN (`h2`, `http/1.1`) when the listener has a certificate,
/// otherwise the h2c preface sniffer; then HTTP/1.1 or HTTP/2 as chosen. NIO moves the bytes; what a request
/// means is `HTTPConnection`'s business, whichever protocol carried it.
enum APIPipeline {
    /// How long a connection may carry nothing either way before it is closed. SDK pools drop connections
    /// idle for less, so this only ever removes stalled or abandoned clients.
    static let idleTimeout: TimeAmount = .seconds(300)

    /// HTTP/2 limits (RFC 9113 §6.5.2), advertised in the server's SETTINGS and enforced by NIOHTTP2, which answers
    /// a peer that breaks them with RST_STREAM or GOAWAY: 128 concurrent streams, 16 KiB of headers per
    /// request (SigV4 and SDK headers take about 2), frames of at most 16 KiB, and a 1 MiB receive window per
    /// stream (4 MiB per connection), which bounds what a client can push ahead of the server's reading.
    static var http2Configuration: NIOHTTP2Handler.Configuration {
        var configuration = NIOHTTP2Handler.Configuration()
        configuration.connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 128),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 16 << 10),
            HTTP2Setting(parameter: .maxFrameSize, value: 1 << 14),
            HTTP2Setting(parameter: .initialWindowSize, value: 1 << 20),
        ]
        configuration.connection.targetWindowSize = 4 << 20
        configuration.stream.targetWindowSize = 1 << 20
        return configuration
    }

    /// Configures a freshly accepted API connection; the future completes once its protocol is chosen.
    static func configure(_ channel: any Channel, tls: NIOSSLContext?) throws -> EventLoopFuture<APIConnection> {
        try configure(channel, tls: tls, http1: configureHTTP1, http2: configureHTTP2)
    }

    /// The protocol choice shared by the API and the starting responder: TLS with ALPN, or the preface sniffer;
    /// then `http1` or `http2` finishes the pipeline on the event loop.
    static func configure<Output: Sendable>(
        _ channel: any Channel,
        tls: NIOSSLContext?,
        http1: @escaping (any Channel) throws -> Output,
        http2: @escaping (any Channel) throws -> Output
    ) throws -> EventLoopFuture<Output> {
        let sync = channel.pipeline.syncOperations
        if let tls {
            try sync.addHandler(NIOSSLServerHandler(context: tls))
        }
        // A connection with no traffic either way for this long is closed, so idle or stalled clients cannot pin
        // connections forever. A SubscribeToShard stream writes every second.
        try sync.addHandlers(IdleStateHandler(allTimeout: idleTimeout), IdleConnectionCloser())
        if tls == nil {
            try sync.addHandler(PrefaceSniffingHandler())
        }
        let negotiation = NIOTypedApplicationProtocolNegotiationHandler<Output> { result, channel in
            channel.eventLoop.makeCompletedFuture {
                switch result {
                case .negotiated("h2"): try http2(channel)
                default: try http1(channel)
                }
            }
        }
        try sync.addHandler(negotiation)
        return negotiation.protocolNegotiationResult
    }

    private static func configureHTTP1(_ channel: any Channel) throws -> APIConnection {
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
        // Half-closure lets a `Connection: close` reply shut the output down only after every pending byte is
        // written; a plain close would drop the tail of a big body.
        return .http1(
            try APIConnection.RequestChannel(
                wrappingChannelSynchronously: channel,
                configuration: .init(isOutboundHalfClosureEnabled: true)
            )
        )
    }

    private static func configureHTTP2(_ channel: any Channel) throws -> APIConnection {
        let closer = HTTP2ConnectionErrorCloser()
        let streams = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(
            mode: .server,
            streamDelegate: nil,
            frameDelegate: closer,
            configuration: http2Configuration
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                // Each stream is one request in HTTP/1 terms; headers are lower-cased and connection-specific ones
                // (Connection, Transfer-Encoding) dropped on the way out, as HTTP/2 requires.
                try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                return try APIConnection.RequestChannel(wrappingChannelSynchronously: stream)
            }
        }
        try channel.pipeline.syncOperations.addHandler(closer)
        return .http2(channel, streams)
    }
}

/// Closes the channel when `IdleStateHandler` reports it idle.
final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
