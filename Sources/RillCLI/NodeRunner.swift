import Logging
import NIOPosix
import RillAPI
import RillHTTP
import RillNode

/// Starts a node and its API listener, reloads the credentials on SIGHUP, and stops both cleanly on SIGINT or
/// SIGTERM.
struct NodeRunner {
    let configuration: NodeConfiguration
    let listeners: HTTPListeners
    let eventLoopThreads: Int
    let logger: Logger
    /// The registry the node's and the API's metrics land in, served at `/metrics`.
    let metricsEndpoint: MetricsEndpoint
    let credentialsReload: CredentialsReload
    var onReady: @Sendable (Int) -> Void = { _ in }

    func runUntilSignalled() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoopThreads)
        // The API port listens from the start and says the node is starting (/ready 503) while it looks for its
        // cluster and replays its logs; the same listener then serves the node.
        let reason =
            configuration.cluster == nil ? "replaying the logs" : "looking for the cluster, then replaying the logs"
        let backend = StartingBackend(reason: { reason })
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { [listeners, logger, metricsEndpoint, onReady] in
                try await listeners.serve(
                    backend,
                    logger: logger,
                    metricsEndpoint: metricsEndpoint,
                    group: group,
                    onBound: onReady
                )
            }
            let node: Node
            do {
                node = try await Node.start(
                    configuration: configuration,
                    logger: logger,
                    metrics: NodeMetrics(factory: metricsEndpoint.factory),
                    eventLoopGroup: group
                )
            } catch {
                tasks.cancelAll()
                try? await tasks.waitForAll()
                logger.critical("node failed to start", metadata: ["error": "\(error)"])
                try await group.shutdownGracefully()
                throw error
            }
            backend.install(node)
            let signal = SignalWatcher(signals: [SIGINT, SIGTERM])
            tasks.addTask { await node.retention.run(every: configuration.retentionInterval) }
            tasks.addTask { [credentialsReload, logger] in
                await credentialsReload.run { Self.reloadKeyStore(node.recordKeys, logger: logger) }
            }
            tasks.addTask {
                let received = await signal.next()
                logger.info("shutting down", metadata: ["signal": "\(received)"])
            }
            // Whichever ends first (a signal, or the listener failing) stops the others.
            do {
                try await tasks.next()
            } catch {
                tasks.cancelAll()
                try await node.shutdown()
                throw error
            }
            tasks.cancelAll()
            try? await tasks.waitForAll()
            try await node.shutdown()
        }
        try await group.shutdownGracefully()
        logger.info("stopped")
    }

    /// SIGHUP: the key store is read again (keys enabled, disabled, rotated or added); a file that does not
    /// parse leaves the previous keys in force.
    static func reloadKeyStore(_ keys: RecordKeys, logger: Logger) {
        do {
            let count = try keys.reload()
            logger.info("key store reloaded", metadata: ["file": "\(keys.path)", "keys": "\(count)"])
        } catch {
            logger.error(
                "key store not reloaded; the previous keys stay in force",
                metadata: ["file": "\(keys.path)", "error": "\(error)"]
            )
        }
    }
}
