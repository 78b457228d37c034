import Logging
import NIOPosix
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
        let node: Node
        // While the node looks for its cluster and replays its logs, the API port says so (/ready is 503).
        let reason =
            configuration.cluster == nil ? "replaying the logs" : "looking for the cluster, then replaying the logs"
        let starting = Task { [logger, listeners] in
            await listeners.answerStarting(group: group, logger: logger) { reason }
        }
        do {
            node = try await Node.start(
                configuration: configuration,
                logger: logger,
                metrics: NodeMetrics(factory: metricsEndpoint.factory),
                eventLoopGroup: group
            )
        } catch {
            starting.cancel()
            await starting.value
            logger.critical("node failed to start", metadata: ["error": "\(error)"])
            try await group.shutdownGracefully()
            throw error
        }
        starting.cancel()
        await starting.value
        let signal = SignalWatcher(signals: [SIGINT, SIGTERM])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { [listeners, logger, metricsEndpoint, onReady] in
                try await listeners.serve(
                    node,
                    logger: logger,
                    metricsEndpoint: metricsEndpoint,
                    group: group,
                    onBound: onReady
                )
            }
            tasks.addTask { await node.runRetention(every: configuration.retentionInterval) }
            tasks.addTask { [credentialsReload, logger] in
                await credentialsReload.run { Self.reloadKeyStore(node.recordKeys, logger: logger) }
            }
            tasks.addTask {
                let received = await signal.next()
                logger.info("shutting down", metadata: ["signal": "\(received)"])
            }
            // Whichever ends first (a signal, or the listener failing) stops the others.
            defer { tasks.cancelAll() }
            try await tasks.next()
        }
        try await node.shutdown()
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
