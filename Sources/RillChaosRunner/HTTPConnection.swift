import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection to one node, one request at a time.
///
/// Chaos needs to know what a failure means, so the connection reports three kinds apart: it could not
/// connect (nothing was sent), it timed out, or the connection broke while a request was out.
struct HTTPConnection: Sendable {
    let channel: any Channel
    let address: APIAddress

    /// Replies bigger than this are refused: a GetRecords page of 10,000 small chaos records is under 2 MiB.
    static let maxResponseBytes = 64 << 20

    /// Connects to `address`; a failure here means no request was sent.
    static func connect(
        to address: APIAddress,
        on group: any EventLoopGroup,
        timeout: Duration
    ) async throws(HTTPFailure)
        -> HTTPConnection
    {
        do {
            let channel = try await ClientBootstrap(group: group)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(TimeAmount(timeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHTTPClientHandlers()
                        try sync.addHandler(NIOHTTPClientResponseAggregator(maxContentLength: maxResponseBytes))
                        try sync.addHandler(HTTPClientHandler())
                    }
                }
                .connect(host: address.host, port: address.port)
                .get()
            return HTTPConnection(channel: channel, address: address)
        } catch {
            throw .notConnected("\(error)")
        }
    }

    /// Whether the connection can still carry a request; a closed one is replaced before sending.
    var isActive: Bool { channel.isActive }

    /// Sends one request and waits for the reply, or fails with `.timedOut` / `.connectionLost`.
    func send(head: HTTPRequestHead, body: ByteBuffer, timeout: Duration) async throws(HTTPFailure) -> HTTPResponse {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: HTTPResponse.self)
        let channel = self.channel
        let written = loop.makePromise(of: Void.self)
        // A write to a closed channel never reaches the handler; fail the caller instead of hanging it.
        written.futureResult.whenFailure { promise.fail($0) }
        channel.writeAndFlush(PendingRequest(head: head, body: body, promise: promise), promise: written)
        let timer = loop.scheduleTask(in: TimeAmount(timeout)) {
            promise.fail(HTTPFailure.timedOut)
            channel.close(promise: nil)
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        do {
            return try await promise.futureResult.get()
        } catch let failure as HTTPFailure {
            throw failure
        } catch {
            throw .connectionLost("\(error)")
        }
    }

    func close() async {
        // Already closed is fine: the caller is done with this connection either way.
        try? await channel.close()
    }
}

/// A complete reply.
struct HTTPResponse: Sendable {
    var status: HTTPResponseStatus
    var body: ByteBuffer

    var bytes: [UInt8] { Array(body.readableBytesView) }
}

/// How a request failed below HTTP, named by what it tells about the request's fate.
enum HTTPFailure: Error, Sendable, CustomStringConvertible {
    /// The connection was never made: the request was not sent.
    case notConnected(String)
    /// No reply within the timeout: the request may have been served.
    case timedOut
    /// The connection broke with the request out: it may have been served.
    case connectionLost(String)

    var description: String {
        switch self {
        case .notConnected(let reason): "could not connect: \(reason)"
        case .timedOut: "timed out"
        case .connectionLost(let reason): "connection lost: \(reason)"
        }
    }

    /// The client-side label a history records for the failure.
    var label: String {
        switch self {
        case .notConnected: "connect"
        case .timedOut: "timeout"
        case .connectionLost: "connection"
        }
    }
}

/// A request on its way to the handler, with the promise its reply completes.
private struct PendingRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
    var promise: EventLoopPromise<HTTPResponse>
}

/// Matches replies to requests in order (HTTP/1.1 answers in request order) and completes their promises.
private final class HTTPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOHTTPClientResponseFull
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = HTTPClientRequestPart

    private var waiting = CircularBuffer<EventLoopPromise<HTTPResponse>>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append(request.promise)
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let response = unwrapInboundIn(data)
        guard let next = waiting.popFirst() else {
            context.close(promise: nil)
            return
        }
        next.succeed(HTTPResponse(status: response.head.status, body: response.body ?? ByteBuffer()))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(HTTPFailure.connectionLost("\(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(HTTPFailure.connectionLost("closed by the server"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: any Error) {
        while let next = waiting.popFirst() { next.fail(error) }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
