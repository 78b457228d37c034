import ArgumentParser
import Logging
import RillHTTP
import RillModel
import RillNode

/// `rill up`: the one-command local cluster. Until per-shard replication lands it runs a single node
/// on PORT; the data folder layout (DIR/node-1) is already the one the three-node cluster will use.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Run a local Rill cluster on loopback and print its endpoints.")

    @Option(name: .customLong("data-dir"), help: "Folder holding every node's data directory.")
    var dataDir: String = "./rill-data"

    @Option(help: "The client port.")
    var port: Int = 4567

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let logger = common.bootstrapLogging(label: "rill.up", metadata: ["rill.node": "1", "rill.az": "az-a"])
        let configuration = NodeConfiguration(
            id: NodeID(1), zone: Zone("az-a"), dataDirectory: dataDir + "/node-1", accountID: common.accountID,
            defaultRegion: common.region, storageThreads: common.storageThreads, throughputLimits: common.throughputLimits,
            credentials: try common.loadCredentials())
        let runner = NodeRunner(
            configuration: configuration, host: "127.0.0.1", port: port, eventLoopThreads: common.eventLoopThreads,
            logger: logger, metricsEndpoint: common.bootstrapMetrics(),
            onReady: { bound in
                print("rill is up: 1 node (az-a)")
                print("  Kinesis endpoint  http://127.0.0.1:\(bound)")
                print("  metrics           http://127.0.0.1:\(bound)/metrics")
                print("  data              \(configuration.dataDirectory)")
                print("press Ctrl-C to stop")
            })
        try await runner.runUntilSignalled()
    }
}
