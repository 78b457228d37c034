import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One keep-alive HTTP/1.1 connection with at most one request in flight at a time per caller.
///
/// The handler stamps the moment a request is written and the moment its response is complete on
/// the event loop itself, so latencies do not include the hop back into Swift concurrency.
struct HTTPConnection: Sendable {
    let channel: Channel
    let endpoint: Endpoint

    /// Responses larger than this are refused; a GetRecords reply of 10,000 × 1 MiB would be bigger,
    /// but Kinesis caps a GetRecords reply at 10 MiB of data (about 14 MiB of base64 JSON).
    static let maxResponseBytes = 64 << 20

    /// How long a request may wait for its response before the connection is given up.
    static let requestTimeout = TimeAmount.seconds(30)

    static func connect(to endpoint: Endpoint, on group: any EventLoopGroup) async throws -> HTTPConnection {
        let channel = try await ClientBootstrap(group: group)
            // Small PutRecord requests must not wait for Nagle's algorithm.
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if endpoint.secure {
                        guard let tls = endpoint.tls else { throw BenchError("\(endpoint) needs a TLS context") }
                        // An IP literal is checked against the certificate's IP SANs; a name by SNI and DNS SANs.
                        let name = endpoint.host.first?.isNumber == true || endpoint.host.contains(":") ? nil : endpoint.host
                        try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: name))
                    }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(NIOHTTPClientResponseAggregator(maxContentLength: maxResponseBytes))
                    try sync.addHandler(HTTPClientHandler())
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .get()
        return HTTPConnection(channel: channel, endpoint: endpoint)
    }

    /// Sends one request and waits for its response.
    ///
    /// With `deadline`, the write is scheduled on the event loop at that instant, whose timers are
    /// far more punctual than a `Task.sleep`; open-loop runs depend on that.
    func send(head: HTTPRequestHead, body: ByteBuffer, at deadline: NIODeadline? = nil) async throws -> HTTPReply {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: HTTPReply.self)
        let request = PendingRequest(head: head, body: body, promise: promise)
        let channel = self.channel
        let write: @Sendable () -> Void = {
            let written = loop.makePromise(of: Void.self)
            // A write to a closed channel never reaches the handler; fail the caller instead of hanging it.
            written.futureResult.whenFailure { promise.fail($0) }
            channel.writeAndFlush(request, promise: written)
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

    func close() async {
        // Already closed is fine: the bench is done with this connection either way.
        try? await channel.close()
    }
}

/// What came back for one request, with event-loop timestamps in `NIODeadline` uptime nanoseconds.
struct HTTPReply: Sendable {
    var status: HTTPResponseStatus
    var body: ByteBuffer
    /// When the request was handed to the pipeline for writing.
    var sentAt: UInt64
    /// When the last byte of the response had been decoded.
    var receivedAt: UInt64
}

/// Transport failures, as opposed to Kinesis errors, which arrive as responses.
enum HTTPClientError: Error, CustomStringConvertible {
    case timedOut
    case connectionClosed
    case unexpectedResponse

    var description: String {
        switch self {
        case .timedOut: "request timed out"
        case .connectionClosed: "connection closed"
        case .unexpectedResponse: "response without a request"
        }
    }

    /// The key this failure is counted under in the error table.
    static func code(of error: any Error) -> String {
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
