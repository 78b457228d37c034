import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import RillClient
import RillKinesis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `rill agent`: the Amazon Kinesis Agent for Rill: tails log files into streams, through rotation, with
/// checkpointed offsets and idempotent-producer resends, so a restart loses and duplicates nothing.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Tail log files into streams, as the Amazon Kinesis Agent does (agent.json flows).",
        discussion: """
            Reads the Kinesis Agent's configuration: flows of filePattern, kinesisStream, partitionKeyOption \
            (RANDOM or DETERMINISTIC), dataProcessingOptions (SINGLELINE, CSVTOJSON, LOGTOJSON), initialPosition, \
            maxBufferAgeMillis, maxBufferSizeRecords and maxBufferSizeBytes; checkpointFile and kinesis.endpoint. \
            Follows each pattern's newest file through rename-and-create and copytruncate rotation, checkpoints \
            the offsets the stream acknowledged, and resends after a restart under the same idempotent-producer \
            ids, so nothing is lost or stored twice. SIGTERM or SIGINT stops it after the call in flight, with a \
            summary. See docs/producers.md.
            """
    )

    @Option(help: "The agent configuration (JSON, the Kinesis Agent's agent.json format).")
    var config: String

    @Option(help: "The Kinesis endpoint (plain HTTP); overrides kinesis.endpoint in the configuration.")
    var endpoint: String?

    @Option(
        help: """
            AKID:SECRET to SigV4-sign every call with. Defaults to AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY when \
            both are set; otherwise calls carry an unsigned credential scope.
            """
    )
    var credentials: String?

    @Option(help: "The region calls are signed for.")
    var region = "us-east-1"

    @Option(help: "Seconds between progress log lines.")
    var progressInterval = 30

    @Option(help: "Milliseconds between looks at the files.")
    var pollInterval = 100

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(help: "Log line format.")
    var logFormat: LogFormat = .text

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard (1...86_400).contains(progressInterval) else {
            throw ValidationError("--progress-interval must be 1…86400")
        }
        guard (10...60_000).contains(pollInterval) else { throw ValidationError("--poll-interval must be 10…60000 ms") }
        if let credentials, SigV4Signer(credentials: credentials, region: region) == nil {
            throw ValidationError("--credentials must be ACCESS_KEY_ID:SECRET")
        }
    }

    func run() async throws {
        let configuration: AgentConfiguration
        do {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: config)))
            configuration = try AgentConfiguration.parse(bytes)
        } catch let error as AgentConfiguration.Invalid {
            throw ToolFailure("rill agent: \(config): \(error)")
        } catch {
            throw ToolFailure("rill agent: cannot read \(config): \(error.localizedDescription)")
        }
        let address = endpoint ?? configuration.endpoint ?? "http://127.0.0.1:4567"
        guard let target = RillClient.Endpoint(address) else {
            throw ToolFailure("rill agent: the endpoint must look like http://host:port, not \(address)")
        }
        let logger = LogOptions.bootstrap(level: logLevel, format: logFormat, label: "rill.agent", metadata: [:])
        let runner = AgentRunner(
            configuration: configuration,
            endpoint: target,
            signer: SigV4Signer.resolve(
                credentials: credentials,
                region: region,
                environment: ProcessInfo.processInfo.environment
            ),
            pollInterval: .milliseconds(pollInterval),
            progressInterval: .seconds(progressInterval),
            logger: logger
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let signals = SignalWatcher(signals: [SIGTERM, SIGINT])
        let outcome: Result<[AgentRunner.FlowTotals], any Error>
        do {
            outcome = .success(
                try await withThrowingTaskGroup(of: [AgentRunner.FlowTotals]?.self) { tasks in
                    tasks.addTask { try await runner.run(group: group, pool: pool) }
                    tasks.addTask {
                        let signal = await signals.next()
                        if signal != 0 { logger.info("agent stopping", metadata: ["signal": "\(signal)"]) }
                        return nil
                    }
                    // The first to finish decides: a signal stops the runner, a runner that ends stops the wait.
                    var totals: [AgentRunner.FlowTotals]?
                    if let first = try await tasks.next() { totals = first }
                    tasks.cancelAll()
                    while let next = try await tasks.next() { totals = totals ?? next }
                    return totals ?? []
                }
            )
        } catch {
            outcome = .failure(error)
        }
        try await pool.shutdownGracefully()
        try await group.shutdownGracefully()
        let totals = try outcome.get()
        for flow in totals { StandardStream.error(flow.line + "\n") }
    }
}
