import Logging
import NIOCore
import NIOHTTP1
import RillKinesis
import RillNode

/// Serves SubscribeToShard over HTTP/1.1: errors found before streaming are ordinary error replies;
/// after that, event-stream messages go out as chunks, each flushed as it is produced.
struct EventStreamResponder {
    let backend: any APIBackend
    let logger: Logger

    func stream(
        _ head: HTTPRequestHead, _ body: ByteBuffer, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        let requestID = RequestIDs.make()
        try await RequestLogContext.$requestID.withValue(requestID) {
            try await stream(head, body, requestID, to: outbound)
        }
    }

    private func stream(
        _ head: HTTPRequestHead, _ body: ByteBuffer, _ requestID: String,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var subscription: ShardSubscription
        do {
            let bytes = Array(buffer: body)
            let request = APIRequest(
                operation: .subscribeToShard, body: bytes, signedRegion: try SigV4Scope.authenticatedRegion(head, bytes, backend: backend),
                requestID: requestID)
            if let node = try await backend.subscriptionRelay(request) {
                try await SubscriptionRelay.relay(head, body, to: node, outbound: outbound, logger: logger)
                return
            }
            subscription = try await backend.subscribe(request)
        } catch {
            let reply: HTTPReply
            if let error = error as? KinesisError {
                reply = .error(error, requestID: requestID)
            } else {
                logger.error("subscription failed", metadata: ["error": "\(error)"])
                reply = .error(.internalFailure(), requestID: requestID)
            }
            var headers = reply.headers
            headers.replaceOrAdd(name: "Content-Length", value: String(reply.body.readableBytes))
            try await outbound.write(contentsOf: [
                .head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers)), .body(.byteBuffer(reply.body)),
                .end(nil),
            ])
            return
        }
        var headers = HTTPReply.commonHeaders(requestID: requestID, contentType: "application/vnd.amazon.eventstream")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        headers.add(name: "Date", value: HTTPDate.now())
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: subscription.initialResponse.encoded()))))
        do {
            while let event = try await subscription.next() {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: event.encoded()))))
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as KinesisError {
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: EventStreamMessage.exception(error.code, message: error.message ?? "").encoded()))))
        } catch {
            logger.error("subscription ended by an error", metadata: ["error": "\(error)"])
            try await outbound.write(
                .body(.byteBuffer(ByteBuffer(bytes: EventStreamMessage.exception(.internalFailure, message: "Internal Service Failure").encoded()))))
        }
        try await outbound.write(.end(nil))
    }
}
