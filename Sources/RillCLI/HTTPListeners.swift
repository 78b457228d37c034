import Logging
import NIOCore
import NIOSSL
import RillAPI
import RillHTTP
import RillNode

/// The HTTP addresses a node or router listens on: `--api`, and `--admin` when given, which takes the operator
/// endpoints off the API address (`HTTPEndpoints`).
struct HTTPListeners: Sendable {
    var apiHost: String
    var apiPort: Int
    var admin: (host: String, port: Int)?
    /// HTTPS on both addresses when set (`--tls-cert`, `--tls-key`).
    var tls: NIOSSLContext?
    /// What a router trusts in nodes' certificates when it relays SubscribeToShard (`--tls-ca`).
    var relayTLS: NIOSSLContext?

    init(api: String, admin: String?, tls: NIOSSLContext? = nil, relayTLS: NIOSSLContext? = nil) throws {
        (apiHost, apiPort) = try Endpoint.parse(api, flag: "--api")
        self.admin = try admin.map { try Endpoint.parse($0, flag: "--admin") }
        self.tls = tls
        self.relayTLS = relayTLS
    }

    /// Serves `backend` on every address until cancelled; `onBound` gets the API port once it listens.
    func serve(
        _ backend: any APIBackend,
        logger: Logger,
        metricsEndpoint: MetricsEndpoint,
        group: any EventLoopGroup,
        onBound: @escaping @Sendable (Int) -> Void
    ) async throws {
        let api = APIServer(
            backend: backend,
            logger: logger,
            metricsEndpoint: metricsEndpoint,
            metricsFactory: metricsEndpoint.factory,
            endpoints: admin == nil ? .all : .apiBesideAdmin,
            tls: tls,
            relayTLS: relayTLS
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await api.run(host: apiHost, port: apiPort, group: group, onBound: onBound) }
            if let admin {
                let server = APIServer(
                    backend: backend,
                    logger: logger,
                    metricsEndpoint: metricsEndpoint,
                    metricsFactory: metricsEndpoint.factory,
                    endpoints: .admin,
                    tls: tls,
                    relayTLS: relayTLS
                )
                tasks.addTask { try await server.run(host: admin.host, port: admin.port, group: group) }
            }
            // Either listener failing (its address taken) stops the other, and the process with it.
            defer { tasks.cancelAll() }
            try await tasks.next()
        }
    }
}
