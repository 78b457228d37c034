import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import RillKinesis

/// Relays one SubscribeToShard call from a router to the node that serves it, over HTTP/1.1 (TLS when the router
/// is given the nodes' CA): the client's request goes on
/// unchanged (its Host and signature headers too, so a node that checks signatures accepts it), and the
/// node's event stream comes back part by part as it is produced, until the node ends it.
enum SubscriptionRelay {
    static func relay(
        _ head: HTTPRequestHead,
        _ body: ByteBuffer,
        to address: String,
        tls: NIOSSLContext?,
        outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        logger: Logger
    ) async throws {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw KinesisError.internalFailure("node API address \(address) is not HOST:PORT")
        }
        let host = String(address[..<colon])
        // Relays are rare and long-lived; they use NIO's shared loops rather than the API server's.
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(2))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            // Verified against the trusted CA; a node's address is an IP literal, checked against
                            // the certificate's IP SANs when no name is given.
                            let name = host.first?.isNumber == true || host.contains(":") ? nil : host
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: tls, serverHostname: name)
                            )
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel
                        )
                    }
                }
        } catch {
            throw KinesisError(
                .serviceUnavailable,
                "The node serving this shard (\(address)) cannot be reached; retry."
            )
        }
        var headSent = false
        do {
            try await channel.executeThenClose { inbound, toNode in
                var request = HTTPRequestHead(version: .http1_1, method: .POST, uri: head.uri, headers: head.headers)
                request.headers.remove(name: "Transfer-Encoding")
                request.headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
                request.headers.replaceOrAdd(name: "Connection", value: "close")
                try await toNode.write(contentsOf: [.head(request), .body(.byteBuffer(body)), .end(nil)])
                for try await part in inbound {
                    switch part {
                    case .head(let response):
                        var headers = response.headers
                        headers.remove(name: "Connection")
                        try await outbound.write(
                            .head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))
                        )
                        headSent = true
                    case .body(let bytes):
                        try await outbound.write(.body(.byteBuffer(bytes)))
                    case .end:
                        try await outbound.write(.end(nil))
                        return
                    }
                }
                throw KinesisError.internalFailure("the node closed the subscription before its end")
            }
        } catch {
            // Before the node answered, the caller replies with an ordinary error; after, the stream ends with
            // an exception event, as a node's own stream does.
            guard headSent else { throw error }
            logger.warning("a relayed subscription broke", metadata: ["node": "\(address)", "error": "\(error)"])
            let exception = EventStreamMessage.exception(.internalFailure, message: "Internal Service Failure")
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: exception.encoded()))))
            try await outbound.write(.end(nil))
        }
    }
}
