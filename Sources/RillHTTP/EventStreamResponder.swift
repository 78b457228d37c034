import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import RillAPI
import RillKinesis
import RillNode

/// Serves SubscribeToShard: errors found before streaming are ordinary error replies; after that, event-stream
/// messages go out as HTTP/1.1 chunks or HTTP/2 DATA frames, each flushed as it is produced. Each write waits
/// while the channel is not writable — a slow HTTP/1.1 reader's full socket, or an HTTP/2 stream whose flow-control
/// window the client keeps closed — so a subscription holds at most one event it could not send yet.
struct EventStreamResponder {
    let backend: any APIBackend
    let logger: Logger
    /// What the router trusts in a node's certificate when it relays; nil relays in cleartext.
    var relayTLS: NIOSSLContext? = nil
    /// Whether the request arrived over TLS (`aws:SecureTransport`).
    var secureTransport = false

    func stream(
        _ head: HTTPRequestHead,
        _ body: ByteBuffer,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        let requestID = RequestIDs.make()
        try await RequestLogContext.$requestID.withValue(requestID) {
            try await stream(head, body, requestID, to: outbound)
        }
    }

    private func stream(
        _ head: HTTPRequestHead,
        _ body: ByteBuffer,
        _ requestID: String,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var subscription: any EventSubscription
        let wire = WireProtocol(contentType: head.headers.first(name: "content-type"))
        do {
            let bytes = Array(buffer: body)
            let (region, principal) = try SigV4Scope.authenticated(
                head,
                bytes,
                backend: backend,
                secureTransport: secureTransport
            )
            let request = APIRequest(
                operation: .subscribeToShard,
                body: try wire.requestJSON(bytes),
                signedRegion: region,
                requestID: requestID,
                principal: principal
            )
            if let node = try await backend.subscriptionRelay(request) {
                try await SubscriptionRelay.relay(
                    head,
                    body,
                    to: node,
                    tls: relayTLS,
                    outbound: outbound,
                    logger: logger
                )
                return
            }
            subscription = try await backend.subscribe(request)
        } catch {
            let reply: HTTPReply
            if let error = error as? KinesisError {
                reply = .error(error, requestID: requestID, protocol: wire)
            } else {
                logger.error("subscription failed", metadata: ["error": "\(error)"])
                reply = .error(.internalFailure(), requestID: requestID, protocol: wire)
            }
            var headers = reply.headers
            headers.replaceOrAdd(name: "Content-Length", value: String(reply.body.readableBytes))
            try await outbound.write(contentsOf: [
                .head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers)),
                .body(.byteBuffer(reply.body)),
                .end(nil),
            ])
            return
        }
        var headers = HTTPReply.commonHeaders(requestID: requestID, contentType: "application/vnd.amazon.eventstream")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        headers.add(name: "Date", value: HTTPDate.now())
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
        try await outbound.write(
            .body(.byteBuffer(ByteBuffer(bytes: Self.encoded(subscription.initialResponse, wire))))
        )
        do {
            while let event = try await subscription.next() {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: Self.encoded(event, wire)))))
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as KinesisError {
            let exception = EventStreamMessage.exception(error.code, message: error.message ?? "")
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: Self.encoded(exception, wire)))))
        } catch {
            logger.error("subscription ended by an error", metadata: ["error": "\(error)"])
            let exception = EventStreamMessage.exception(.internalFailure, message: "Internal Service Failure")
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: Self.encoded(exception, wire)))))
        }
        try await outbound.write(.end(nil))
    }

    /// A message framed for the wire. A CBOR client gets its event and exception payloads in CBOR, since Java
    /// v2 parses them with the client's protocol factory (KINESIS-SEMANTICS §1.6); the node writes them in JSON.
    static func encoded(_ message: EventStreamMessage, _ wire: WireProtocol) -> [UInt8] {
        guard wire == .cbor,
            let index = message.headers.firstIndex(where: {
                $0.name == ":content-type" && $0.value == "application/json"
            })
        else { return message.encoded() }
        var message = message
        do {
            message.payload = try wire.responseBody(message.payload)
        } catch {
            // Our own JSON always transcodes; should it not, the client still gets a readable exception.
            message = EventStreamMessage.exception(.internalFailure, message: "Internal Service Failure")
            return message.encoded()
        }
        message.headers[index].value = WireProtocol.cborContentType
        return message.encoded()
    }
}
