import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import RillAPI
import RillKinesis
import RillNode

/// Serves the requests of one keep-alive HTTP/1.1 connection in order, or the one request of an HTTP/2 stream
/// (whose parts arrive in the same HTTP/1 shape, `HTTP2FramePayloadToHTTP1ServerCodec`).
struct HTTPConnection {
    let backend: any APIBackend
    let logger: Logger
    let metrics: APIMetrics
    let metricsEndpoint: MetricsEndpoint?
    let endpoints: HTTPEndpoints
    /// What the router's SubscribeToShard relay trusts in nodes' certificates; nil relays in cleartext.
    var relayTLS: NIOSSLContext? = nil
    /// Whether the connection is TLS (`aws:SecureTransport` in policies).
    var secureTransport = false

    func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                var closing = false
                for try await part in inbound {
                    // After a final reply, drain what the client still sends until it closes.
                    if closing { continue }
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body.clear()
                        if let length = requestHead.headers.first(name: "content-length").flatMap(Int.init),
                            length > Node.maxRequestBytes
                        {
                            try await refuseTooLarge(requestHead, outbound)
                            closing = true
                        }
                    case .body(let chunk):
                        guard let requestHead = head else { continue }
                        // Refuse oversized bodies while they stream in, before buffering them.
                        if body.readableBytes + chunk.readableBytes > Node.maxRequestBytes {
                            try await refuseTooLarge(requestHead, outbound)
                            head = nil
                            closing = true
                            continue
                        }
                        var chunk = chunk
                        body.writeBuffer(&chunk)
                    case .end:
                        guard let requestHead = head else { continue }
                        head = nil
                        if requestHead.method == .POST, endpoints.contains(.kinesis),
                            requestHead.headers.first(name: "x-amz-target").flatMap(KinesisOperation.init(target:))
                                == .subscribeToShard
                        {
                            try await withTaskExecutorPreference(globalConcurrentExecutor) {
                                try await EventStreamResponder(
                                    backend: backend,
                                    logger: logger,
                                    relayTLS: relayTLS,
                                    secureTransport: secureTransport
                                )
                                .stream(requestHead, body, to: outbound)
                            }
                            if !Self.keepsAlive(requestHead) {
                                outbound.finish()
                                closing = true
                            }
                            continue
                        }
                        let dispatcher = RequestDispatcher(
                            backend: backend,
                            logger: logger,
                            metrics: metrics,
                            metricsEndpoint: metricsEndpoint,
                            endpoints: endpoints,
                            secureTransport: secureTransport
                        )
                        let reply: HTTPReply
                        if Self.servesOnEventLoop(requestHead, body) {
                            reply = await dispatcher.respond(to: requestHead, body: body)
                        } else {
                            // Real work (a read, a big batch, JSON of many records) would hold up every other
                            // connection and peer message on this event loop: it runs on the global pool.
                            reply = await withTaskExecutorPreference(globalConcurrentExecutor) {
                                await dispatcher.respond(to: requestHead, body: body)
                            }
                        }
                        try await write(reply, keepAlive: Self.keepsAlive(requestHead), to: outbound)
                        if !Self.keepsAlive(requestHead) {
                            outbound.finish()
                            closing = true
                        }
                    }
                }
            }
        } catch {
            // A client that vanishes mid-request is routine; nothing it sent was acted on.
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Whether the connection stays open after this request. An HTTP/2 stream carries one request and ends with its
    /// reply, and HTTP/2 has no `Connection` header (NIO's `isKeepAlive` reads 2.0 as not keep-alive).
    static func keepsAlive(_ head: HTTPRequestHead) -> Bool {
        head.version.major >= 2 || head.isKeepAlive
    }

    /// Whether a request is one small PutRecord, which mostly waits for its commit and may be served on the
    /// connection's event loop (the task's preferred executor, see `APIServer`).
    static func servesOnEventLoop(_ head: HTTPRequestHead, _ body: ByteBuffer) -> Bool {
        body.readableBytes <= 16 << 10 && head.method == .POST
            && head.headers.first(name: "x-amz-target").flatMap(KinesisOperation.init(target:)) == .putRecord
    }

    private func refuseTooLarge(
        _ head: HTTPRequestHead,
        _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        let error = KinesisError(.serialization, "Request body exceeds the maximum of \(Node.maxRequestBytes) bytes.")
        var reply = HTTPReply.error(error, requestID: RequestIDs.make())
        reply.status = .payloadTooLarge
        try await write(reply, keepAlive: false, to: outbound)
        outbound.finish()
    }

    private func write(
        _ reply: HTTPReply,
        keepAlive: Bool,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = reply.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(reply.body.readableBytes))
        headers.replaceOrAdd(name: "Date", value: HTTPDate.now())
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        try await outbound.write(contentsOf: [
            .head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers)),
            .body(.byteBuffer(reply.body)),
            .end(nil),
        ])
    }
}
