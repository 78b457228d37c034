import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import RillAPI
import RillNode
import RillTransport

/// The client-facing listener: HTTP/1.1 with keep-alive, AWS JSON 1.1, one child task per connection.
public struct APIServer: Sendable {
    public let backend: any APIBackend
    public let logger: Logger
    /// Serves `GET /metrics` when set.
    public let metricsEndpoint: MetricsEndpoint?
    /// The paths this listener answers: all of them, or its share when `--admin` splits them.
    public let endpoints: HTTPEndpoints
    private let metrics: APIMetrics
    /// How long a connection may carry nothing either way before it is closed. SDK pools drop connections
    /// idle for less, so this only ever removes stalled or abandoned clients.
    public static let idleTimeout: TimeAmount = .seconds(300)

    /// - Parameters:
    ///   - metricsEndpoint: the registry `/metrics` renders; nil serves no `/metrics`.
    ///   - metricsFactory: where the request metrics are made.
    ///   - endpoints: the paths this listener answers.
    public init(
        backend: any APIBackend, logger: Logger, metricsEndpoint: MetricsEndpoint? = nil,
        metricsFactory: any MetricsFactory = MetricsSystem.factory, endpoints: HTTPEndpoints = .all
    ) {
        self.backend = backend
        self.logger = logger
        self.metricsEndpoint = metricsEndpoint
        self.endpoints = endpoints
        self.metrics = APIMetrics(factory: metricsFactory)
    }

    /// Binds `host:port` and serves until the surrounding task is cancelled.
    public func run(host: String, port: Int, group: any EventLoopGroup, onBound: @Sendable (Int) -> Void = { _ in }) async throws {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    // A connection with no traffic either way for this long is closed, so idle or stalled
                    // clients cannot pin connections forever. A SubscribeToShard stream writes every second.
                    try channel.pipeline.syncOperations.addHandlers(
                        IdleStateHandler(allTimeout: Self.idleTimeout), IdleConnectionCloser())
                    // Half-closure lets a `Connection: close` reply shut the output down only after
                    // every pending byte is written; a plain close would drop the tail of a big body.
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        onBound(server.channel.localAddress?.port ?? port)
        logger.info(
            endpoints.contains(.kinesis) ? "API listening" : "admin listening",
            metadata: ["address": "\(host):\(server.channel.localAddress?.port ?? port)"])
        try await withThrowingDiscardingTaskGroup { group in
            try await withTaskCancellationHandler {
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        // On the connection's event loop: a small PutRecord is read, proposed and answered there
                        // without waking a pool thread on the way in or out (`HTTPConnection` moves everything
                        // else to the global pool).
                        group.addTask(executorPreference: EventLoopTaskExecutor(connection.channel.eventLoop)) {
                            let connectionHandler = HTTPConnection(
                                backend: backend, logger: logger, metrics: metrics, metricsEndpoint: metricsEndpoint,
                                endpoints: endpoints)
                            await connectionHandler.serve(connection)
                        }
                    }
                }
            } onCancel: {
                server.channel.close(promise: nil)
            }
        }
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
