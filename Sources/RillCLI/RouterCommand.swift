import ArgumentParser
import Logging
import Metrics
import NIOPosix
import NIOSSL
import RillAPI
import RillCluster
import RillHTTP
import RillModel
import RillNode
import RillRouter
import RillTLS

/// `rill router`: a stateless Kinesis endpoint in front of the nodes.
struct RouterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "Run a stateless router that sends each call to the node that must serve it."
    )

    @Option(help: "HOST:PORT the Kinesis API listens on.")
    var api: String = "127.0.0.1:4567"

    @Option(
        help:
            "HOST:PORT serving /health, /ready, /metrics, /admin/* and the web console (/console); /metrics, /admin/checksums, /admin/faults and /console then leave the API address."
    )
    var admin: String?

    @Option(
        help: "HOST:PORT the router's gossip listener binds and nodes dial (default: the API host, API port + 100)."
    )
    var peer: String?

    @Option(help: "Node peer addresses (HOST:PORT, comma-separated) to find the cluster through.")
    var join: String

    @Option(help: "The router's member id; default: random, above the ids nodes use.")
    var id: UInt64?

    @Option(help: "Zone label shown in gossip and `rill status`.")
    var az: String = "none"

    @Option(
        name: .customLong("credentials-file"),
        help:
            "File of ACCESS_KEY_ID:SECRET lines; when given (or RILL_CREDENTIALS is set), every request must be SigV4-signed by one of them."
    )
    var credentialsFile: String?

    @Flag(
        name: .customLong("fault-injection"),
        help: "Allow the chaos fault hooks on the router's transport; never in production."
    )
    var faultInjection = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("log-format"), help: "text (human-readable lines) or json (one JSON object per line).")
    var logFormat: LogFormat = .text

    @Option(name: .customLong("event-loop-threads"), help: "Event loop threads for network I/O.")
    var eventLoopThreads: Int = 1

    @OptionGroup var gossip: GossipOptions

    @OptionGroup var tls: TLSOptions

    @OptionGroup var clusterSecret: ClusterSecretOptions

    @OptionGroup var peerTLS: PeerTLSOptions

    @Option(
        name: .customLong("tls-ca"),
        help:
            "PEM CA certificates the nodes' API certificates are checked against; given it, SubscribeToShard is relayed to nodes over HTTPS."
    )
    var tlsCA: String?

    /// Node ids are small; a random router id from here up cannot meet one.
    static let firstRandomID: UInt64 = 1 << 32

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard eventLoopThreads >= 1 else { throw ValidationError("--event-loop-threads must be at least 1") }
        if let id, id == 0 { throw ValidationError("--id must not be 0") }
    }

    func run() async throws {
        let id = NodeID(id ?? UInt64.random(in: Self.firstRandomID...UInt64.max))
        let logger = LogOptions.bootstrap(
            level: logLevel,
            format: logFormat,
            label: "rill.router",
            metadata: ["rill.router": "\(id)", "rill.role": "router", "rill.az": "\(az)"]
        )
        let relayTLS: NIOSSLContext?
        do {
            relayTLS = try tlsCA.map { try APITLS.clientContext(trusting: $0) }
        } catch {
            throw ValidationError("\(error)")
        }
        let listeners = try HTTPListeners(api: api, admin: admin, tls: try tls.serverContext(), relayTLS: relayTLS)
        let peerAddress = peer ?? "\(listeners.apiHost):\(listeners.apiPort + 100)"
        let (peerHost, peerPort) = try Endpoint.parse(peerAddress, flag: "--peer")
        let addresses = join.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
        guard !addresses.isEmpty else { throw ValidationError("--join needs at least one node peer address") }
        for address in addresses { _ = try Endpoint.parse(address, flag: "--join") }
        var settings = RouterSettings(
            id: id,
            zone: Zone(az),
            peerHost: peerHost,
            peerPort: peerPort,
            advertisedPeer: peerAddress,
            advertisedAPI: api,
            join: addresses
        )
        settings.gossip = gossip.settings
        settings.faultInjection = faultInjection
        // A router verifies signatures and forwards the caller; the node that serves a call authorizes it.
        settings.credentials = try Credentials.load(file: credentialsFile, defaultAccount: "000000000000")
        settings.clusterSecret = try clusterSecret.load()
        settings.peerTLS = try peerTLS.contexts()
        let credentialsReload = CredentialsReload(file: credentialsFile, keys: settings.credentials, logger: logger)
        let metricsEndpoint = MetricsEndpoint()
        MetricsSystem.bootstrap(metricsEndpoint.factory)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoopThreads)
        // One API listener from the start: "starting" (/ready 503) until the router has found the cluster.
        let backend = StartingBackend(reason: { "looking for the cluster" })
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await listeners.serve(
                    backend,
                    logger: logger,
                    metricsEndpoint: metricsEndpoint,
                    group: group,
                    onBound: { _ in }
                )
            }
            let router: Router
            do {
                router = try await Router.start(
                    settings: settings,
                    group: group,
                    logger: logger,
                    metrics: RouterMetrics(factory: metricsEndpoint.factory)
                )
            } catch {
                tasks.cancelAll()
                try? await tasks.waitForAll()
                logger.critical("router failed to start", metadata: ["error": "\(error)"])
                try await group.shutdownGracefully()
                throw error
            }
            backend.install(router)
            let signal = SignalWatcher(signals: [SIGINT, SIGTERM])
            tasks.addTask { await credentialsReload.run() }
            tasks.addTask {
                let received = await signal.next()
                logger.info("shutting down", metadata: ["signal": "\(received)"])
            }
            do {
                try await tasks.next()
            } catch {
                tasks.cancelAll()
                await router.shutdown()
                throw error
            }
            tasks.cancelAll()
            try? await tasks.waitForAll()
            await router.shutdown()
        }
        try await group.shutdownGracefully()
        logger.info("stopped")
    }
}
