import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL

/// One keep-alive HTTP/1.1 connection with at most one request in flight at a time per caller, or one HTTP/2
/// connection (`--http2`: h2c, or h2 by ALPN over TLS) where each request opens a stream of its own.
///
/// The handler stamps the moment a request is written and the moment its response is complete on
/// the event loop itself, so latencies do not include the hop back into Swift concurrency.
public struct HTTPConnection: Sendable {
    public let channel: Channel
    public let endpoint: Endpoint
    /// HTTP/2 only: where each request's stream is opened.
    public let streams: NIOHTTP2Handler.StreamMultiplexer?

    /// Responses larger than this are refused; a GetRecords reply of 10,000 × 1 MiB would be bigger,
    /// but Kinesis caps a GetRecords reply at 10 MiB of data (about 14 MiB of base64 JSON).
    public static let maxResponseBytes = 64 << 20

    /// How long a request may wait for its response before the connection is given up.
    public static let requestTimeout = TimeAmount.seconds(30)

    public static func connect(to endpoint: Endpoint, on group: any EventLoopGroup) async throws -> HTTPConnection {
        let (channel, streams) = try await ClientBootstrap(group: group)
            // Small PutRecord requests must not wait for Nagle's algorithm.
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture { () -> (Channel, NIOHTTP2Handler.StreamMultiplexer?) in
                    let sync = channel.pipeline.syncOperations
                    if endpoint.secure {
                        guard let tls = endpoint.tls else { throw BenchError("\(endpoint) needs a TLS context") }
                        // An IP literal is checked against the certificate's IP SANs; a name by SNI and DNS SANs.
                        let name =
                            endpoint.host.first?.isNumber == true || endpoint.host.contains(":") ? nil : endpoint.host
                        try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: name))
                    }
                    if endpoint.http2 {
                        // The server's settings bound the streams. A 16 MiB window per stream and 1 MiB frames let a
                        // GetRecords reply (up to about 14 MB of JSON) flow in a few frames, without waiting on
                        // WINDOW_UPDATEs; with the defaults (64 KiB, 16 KiB frames) reads ran at about 0.6 of HTTP/1.1.
                        var connection = NIOHTTP2Handler.ConnectionConfiguration()
                        connection.initialSettings = [
                            HTTP2Setting(parameter: .initialWindowSize, value: 16 << 20),
                            HTTP2Setting(parameter: .maxFrameSize, value: 1 << 20),
                        ]
                        connection.targetWindowSize = 64 << 20
                        var stream = NIOHTTP2Handler.StreamConfiguration()
                        stream.targetWindowSize = 16 << 20
                        let streams = try sync.configureHTTP2Pipeline(
                            mode: .client,
                            connectionConfiguration: connection,
                            streamConfiguration: stream
                        ) { $0.eventLoop.makeSucceededVoidFuture() }
                        return (channel, streams)
                    }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(NIOHTTPClientResponseAggregator(maxContentLength: maxResponseBytes))
                    try sync.addHandler(HTTPClientHandler())
                    return (channel, nil)
                }
            }
        return HTTPConnection(channel: channel, endpoint: endpoint, streams: streams)
    }

    /// Sends one request and waits for its response.
    ///
    /// With `deadline`, the write is scheduled on the event loop at that instant, whose timers are
    /// far more punctual than a `Task.sleep`; open-loop runs depend on that.
    public func send(head: HTTPRequestHead, body: ByteBuffer, at deadline: NIODeadline? = nil) async throws -> HTTPReply
    {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: HTTPReply.self)
        let request = PendingRequest(head: head, body: body, promise: promise)
        let channel = self.channel
        let streams = self.streams
        let secure = endpoint.secure
        let write: @Sendable () -> Void = {
            let written = loop.makePromise(of: Void.self)
            // A write to a closed channel never reaches the handler; fail the caller instead of hanging it.
            written.futureResult.whenFailure { promise.fail($0) }
            guard let streams else {
                channel.writeAndFlush(request, promise: written)
                return
            }
            // HTTP/2: a new stream per request, shaped as HTTP/1 parts by the codec; it closes with its response.
            streams.createStreamChannel { stream in
                stream.eventLoop.makeCompletedFuture {
                    let sync = stream.pipeline.syncOperations
                    try sync.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: secure ? .https : .http))
                    try sync.addHandler(NIOHTTPClientResponseAggregator(maxContentLength: Self.maxResponseBytes))
                    try sync.addHandler(HTTPClientHandler())
                }
            }.whenComplete { created in
                switch created {
                case .success(let stream): stream.writeAndFlush(request, promise: written)
                case .failure(let error): written.fail(error)
                }
            }
        }
        if let deadline {
            loop.scheduleTask(deadline: deadline, write)
        } else {
            write()
        }
        let timeout = loop.scheduleTask(in: Self.requestTimeout + (deadline.map { $0 - .now() } ?? .zero)) {
            promise.fail(HTTPClientError.timedOut)
            channel.close(promise: nil)
        }
        promise.futureResult.whenComplete { _ in timeout.cancel() }
        return try await promise.futureResult.get()
    }

    public func close() async {
        // Already closed is fine: the bench is done with this connection either way.
        try? await channel.close()
    }
}

/// What came back for one request, with event-loop timestamps in `NIODeadline` uptime nanoseconds.
public struct HTTPReply: Sendable {
    public var status: HTTPResponseStatus
    public var body: ByteBuffer
    /// When the request was handed to the pipeline for writing.
    public var sentAt: UInt64
    /// When the last byte of the response had been decoded.
    public var receivedAt: UInt64
}

/// Transport failures, as opposed to Kinesis errors, which arrive as responses.
public enum HTTPClientError: Error, CustomStringConvertible {
    case timedOut
    case connectionClosed
    case unexpectedResponse

    public var description: String {
        switch self {
        case .timedOut: "request timed out"
        case .connectionClosed: "connection closed"
        case .unexpectedResponse: "response without a request"
        }
    }

    /// The key this failure is counted under in the error table.
    public static func code(of error: any Error) -> String {
        if let error = error as? HTTPClientError { return "transport: \(error)" }
        if let error = error as? ChannelError { return "transport: \(error)" }
        return "transport: \(String(describing: error).prefix(60))"
    }
}

/// A request travelling to the handler with the promise its response completes.
struct PendingRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
    var promise: EventLoopPromise<HTTPReply>
}

/// Matches responses to requests in order (HTTP/1.1 answers in request order) and completes their promises.
private final class HTTPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOHTTPClientResponseFull
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = HTTPClientRequestPart

    private var waiting = CircularBuffer<(promise: EventLoopPromise<HTTPReply>, sentAt: UInt64)>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append((request.promise, NIODeadline.now().uptimeNanoseconds))
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let response = unwrapInboundIn(data)
        let now = NIODeadline.now().uptimeNanoseconds
        guard let next = waiting.popFirst() else {
            context.fireErrorCaught(HTTPClientError.unexpectedResponse)
            context.close(promise: nil)
            return
        }
        next.promise.succeed(
            HTTPReply(
                status: response.head.status,
                body: response.body ?? ByteBuffer(),
                sentAt: next.sentAt,
                receivedAt: now
            )
        )
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(HTTPClientError.connectionClosed)
        context.fireChannelInactive()
    }

    private func failAll(_ error: any Error) {
        while let next = waiting.popFirst() { next.promise.fail(error) }
    }
}
