import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import RillAPI
import RillNode
import RillTransport

/// The client-facing listener: HTTP/1.1 with keep-alive and HTTP/2 (h2c by prior knowledge, or h2 over TLS by
/// ALPN) on one port, AWS JSON 1.1 and CBOR 1.1, one child task per connection and per HTTP/2 stream.
public struct APIServer: Sendable {
    public let backend: any APIBackend
    public let logger: Logger
    /// Serves `GET /metrics` when set.
    public let metricsEndpoint: MetricsEndpoint?
    /// The paths this listener answers: all of them, or its share when `--admin` splits them.
    public let endpoints: HTTPEndpoints
    private let metrics: APIMetrics
    /// The certificate the listener serves HTTPS with (ALPN `h2`, `http/1.1`); nil serves cleartext, where an
    /// HTTP/2 client with prior knowledge (h2c) and an HTTP/1.1 client share the port.
    public let tls: NIOSSLContext?
    /// What the router trusts when it relays SubscribeToShard to a node's API; nil relays in cleartext.
    public let relayTLS: NIOSSLContext?

    /// - Parameters:
    ///   - metricsEndpoint: the registry `/metrics` renders; nil serves no `/metrics`.
    ///   - metricsFactory: where the request metrics are made.
    ///   - endpoints: the paths this listener answers.
    public init(
        backend: any APIBackend,
        logger: Logger,
        metricsEndpoint: MetricsEndpoint? = nil,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        endpoints: HTTPEndpoints = .all,
        tls: NIOSSLContext? = nil,
        relayTLS: NIOSSLContext? = nil
    ) {
        self.backend = backend
        self.logger = logger
        self.metricsEndpoint = metricsEndpoint
        self.endpoints = endpoints
        self.metrics = APIMetrics(factory: metricsFactory)
        self.tls = tls
        self.relayTLS = relayTLS
    }

    /// Binds `host:port` and serves until the surrounding task is cancelled.
    public func run(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        onBound: @Sendable (Int) -> Void = { _ in }
    ) async throws {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .bind(host: host, port: port) { [tls] channel in
                channel.eventLoop.makeCompletedFuture { try APIPipeline.configure(channel, tls: tls) }
            }
        onBound(server.channel.localAddress?.port ?? port)
        logger.info(
            endpoints.contains(.kinesis) ? "API listening" : "admin listening",
            metadata: ["address": "\(host):\(server.channel.localAddress?.port ?? port)"]
        )
        try await withThrowingDiscardingTaskGroup { group in
            try await withTaskCancellationHandler {
                try await server.executeThenClose { inbound in
                    for try await negotiation in inbound {
                        // On the connection's event loop: a small PutRecord is read, proposed and answered there
                        // without waking a pool thread on the way in or out (`HTTPConnection` moves everything
                        // else to the global pool). HTTP/2 streams share their connection's loop.
                        group.addTask(executorPreference: EventLoopTaskExecutor(negotiation.eventLoop)) {
                            await serve(negotiation)
                        }
                    }
                }
            } onCancel: {
                server.channel.close(promise: nil)
            }
        }
    }

    /// Serves one connection, once its protocol is chosen, until it closes or the server stops.
    private func serve(_ negotiation: EventLoopFuture<APIConnection>) async {
        let connection: APIConnection
        do {
            connection = try await negotiation.get()
        } catch {
            // A failed TLS handshake, or a client gone before its first byte.
            logger.debug("connection ended before its protocol was chosen", metadata: ["error": "\(error)"])
            return
        }
        switch connection {
        case .http1(let channel):
            await requestHandler().serve(channel)
        case .http2(let channel, let streams):
            await serveHTTP2(channel, streams)
        }
    }

    /// Each stream of an HTTP/2 connection is served as its own request by the same `HTTPConnection` as HTTP/1.1,
    /// concurrently; the streams end with the connection.
    private func serveHTTP2(
        _ channel: any Channel,
        _ streams: NIOHTTP2Handler.AsyncStreamMultiplexer<APIConnection.RequestChannel>
    ) async {
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                do {
                    for try await stream in streams.inbound {
                        group.addTask { await requestHandler().serve(stream) }
                    }
                } catch {
                    logger.debug("HTTP/2 connection ended", metadata: ["error": "\(error)"])
                }
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    private func requestHandler() -> HTTPConnection {
        HTTPConnection(
            backend: backend,
            logger: logger,
            metrics: metrics,
            metricsEndpoint: metricsEndpoint,
            endpoints: endpoints,
            relayTLS: relayTLS,
            // The API port is either all TLS (`--tls-cert`) or all cleartext.
            secureTransport: tls != nil
        )
    }
}
