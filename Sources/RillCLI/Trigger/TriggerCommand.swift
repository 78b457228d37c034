import ArgumentParser
import Foundation
import NIOPosix
import RillKinesis

/// `rill trigger`: what a Lambda event source mapping does for a Kinesis stream, run as a process of yours.
struct TriggerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trigger",
        abstract: "Invoke a function with batches of a stream's records, as a Lambda event source mapping does.",
        discussion: """
            Joins the consumer group GROUP (creating it at --starting-position if it does not exist) and takes its \
            share of the stream's shards through leases; several triggers with the same group share the shards. \
            Each batch is Lambda's Kinesis event, field for field. The function is one of --handler \
            FILE.py:FUNCTION (a long-lived python3 process per concurrent invocation, calling \
            FUNCTION(event, context)), --command CMD (run with /bin/sh per batch, the event on its standard input, \
            the response on its standard output, a non-zero exit a failure) or --invoke-url URL (POSTed, as to the \
            Lambda runtime interface emulator). The group is checkpointed only past records whose invocation \
            succeeded or that were given up on (--maximum-retry-attempts, --maximum-record-age) and sent to \
            --on-failure. SIGTERM or SIGINT finishes the invocations in flight, checkpoints and releases the leases.
            """
    )

    @OptionGroup var client: ClientOptions

    @Option(help: "The stream to read.")
    var stream: String

    @Option(help: "The consumer group (docs/consumers.md) whose leases and checkpoints the trigger uses.")
    var group: String

    @Option(help: "A Python handler, FILE.py:FUNCTION, called as FUNCTION(event, context).")
    var handler: String?

    @Option(help: "A shell command run per batch: the event on standard input, the response on standard output.")
    var command: String?

    @Option(help: "POST each event here, e.g. http://127.0.0.1:9000/2015-03-31/functions/function/invocations.")
    var invokeURL: String?

    @Option(help: "Records per invocation (BatchSize), 1–10000.")
    var batchSize = 100

    @Option(
        help:
            "Seconds to gather records before invoking with fewer than --batch-size (MaximumBatchingWindowInSeconds), 0–300."
    )
    var batchWindow = 0

    @Option(help: "Where a new group starts (StartingPosition): TRIM_HORIZON, LATEST or AT_TIMESTAMP.")
    var startingPosition = "LATEST"

    @Option(help: "With AT_TIMESTAMP (StartingPositionTimestamp): ISO 8601 or seconds since the epoch.")
    var startingPositionTimestamp: String?

    @Option(help: "Concurrent batches per shard (ParallelizationFactor), 1–10; a partition key is in one at a time.")
    var parallelizationFactor = 1

    @Option(
        help:
            "Retries of a failed batch before its records go to --on-failure (MaximumRetryAttempts); -1: until they expire."
    )
    var maximumRetryAttempts = -1

    @Option(help: "Seconds after which records are given up on (MaximumRecordAgeInSeconds), 60–604800; -1: never.")
    var maximumRecordAge = -1

    @Flag(help: "Split a failed batch in two and retry each half (BisectBatchOnFunctionError).")
    var bisectBatchOnFunctionError = false

    @Option(help: "ReportBatchItemFailures: honour batchItemFailures[].itemIdentifier in the response.")
    var functionResponseTypes: [String] = []

    @Option(
        help: "Where records given up on go (DestinationConfig.OnFailure): a stream name, or file:PATH (JSON lines)."
    )
    var onFailure: String?

    @Option(help: "Seconds an invocation may run (the function's Timeout), 1–900.")
    var functionTimeout = 60

    @Option(help: "The function name the context and on-failure records give (default: the handler's name).")
    var functionName: String?

    @Option(help: "This worker's name in the group's leases (default HOST:PID).")
    var workerId: String?

    func validate() throws {
        let functions = [handler, command, invokeURL].compactMap { $0 }
        guard functions.count == 1 else {
            throw ValidationError("give exactly one of --handler, --command and --invoke-url")
        }
        if let handler {
            guard let split = Self.splitHandler(handler) else {
                throw ValidationError("--handler must be FILE.py:FUNCTION, not \(handler)")
            }
            guard FileManager.default.isReadableFile(atPath: split.file) else {
                throw ValidationError("--handler: cannot read \(split.file)")
            }
        }
        if let invokeURL, InvokeURL(invokeURL) == nil {
            throw ValidationError("--invoke-url must be http://HOST:PORT/PATH")
        }
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1–10000") }
        guard (0...300).contains(batchWindow) else { throw ValidationError("--batch-window must be 0–300 seconds") }
        guard (1...10).contains(parallelizationFactor) else {
            throw ValidationError("--parallelization-factor must be 1–10")
        }
        guard maximumRetryAttempts == -1 || (0...10_000).contains(maximumRetryAttempts) else {
            throw ValidationError("--maximum-retry-attempts must be -1 or 0–10000")
        }
        guard maximumRecordAge == -1 || (60...604_800).contains(maximumRecordAge) else {
            throw ValidationError("--maximum-record-age must be -1 or 60–604800 seconds")
        }
        for type in functionResponseTypes where type != "ReportBatchItemFailures" {
            throw ValidationError("--function-response-types accepts ReportBatchItemFailures, not \(type)")
        }
        if let onFailure, FailureDestination(onFailure) == nil {
            throw ValidationError("--on-failure must be a stream name or file:PATH")
        }
        guard (1...900).contains(functionTimeout) else { throw ValidationError("--function-timeout must be 1–900") }
        _ = try position()
    }

    static func splitHandler(_ text: String) -> (file: String, function: String)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let file = String(text[..<colon])
        let function = String(text[text.index(after: colon)...])
        guard !file.isEmpty, !function.isEmpty, function.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber })
        else { return nil }
        return (file, function)
    }

    func position() throws -> ShardLineage.StartPosition {
        switch startingPosition.uppercased() {
        case "TRIM_HORIZON":
            guard startingPositionTimestamp == nil else {
                throw ValidationError("--starting-position-timestamp goes with AT_TIMESTAMP only")
            }
            return .trimHorizon
        case "LATEST":
            guard startingPositionTimestamp == nil else {
                throw ValidationError("--starting-position-timestamp goes with AT_TIMESTAMP only")
            }
            return .latest
        case "AT_TIMESTAMP":
            guard let text = startingPositionTimestamp, case .atTimestamp(let seconds)? = TailCommand.parseStart(text)
            else {
                throw ValidationError("AT_TIMESTAMP needs --starting-position-timestamp (ISO 8601 or epoch seconds)")
            }
            return .atTimestamp(seconds)
        default:
            throw ValidationError("--starting-position must be TRIM_HORIZON, LATEST or AT_TIMESTAMP")
        }
    }

    func run() async throws {
        var settings = ShardTrigger.Settings()
        settings.batchSize = batchSize
        settings.batchWindowMillis = Int64(batchWindow) * 1000
        settings.parallelization = parallelizationFactor
        settings.maxRetryAttempts = maximumRetryAttempts < 0 ? nil : maximumRetryAttempts
        settings.maxRecordAgeMillis = maximumRecordAge < 0 ? nil : Int64(maximumRecordAge) * 1000
        settings.bisectOnError = bisectBatchOnFunctionError
        settings.reportBatchItemFailures = functionResponseTypes.contains("ReportBatchItemFailures")
        // A handler's process that exits before reading its event would otherwise kill the trigger with SIGPIPE;
        // the write fails instead, and the batch with it.
        signal(SIGPIPE, SIG_IGN)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let name: String
        let invoker: Invoker
        if let handler, let split = Self.splitHandler(handler) {
            name = functionName ?? split.function
            invoker = .python(
                PythonHostPool(file: split.file, function: split.function, functionName: name, group: group)
            )
        } else if let command {
            name = functionName ?? "command"
            invoker = .command(command, group: group)
        } else if let invokeURL, let url = InvokeURL(invokeURL) {
            name = functionName ?? "function"
            invoker = .url(url, group: group)
        } else {
            throw ValidationError("give exactly one of --handler, --command and --invoke-url")
        }
        let runner = TriggerRunner(
            client: client,
            stream: stream,
            group: self.group,
            worker: workerId ?? "\(ProcessInfo.processInfo.hostName):\(getpid())",
            startingPosition: try position(),
            settings: settings,
            functionTimeout: .seconds(functionTimeout),
            functionName: name,
            destination: onFailure.flatMap(FailureDestination.init),
            invoker: invoker,
            signals: SignalWatcher(signals: [SIGTERM, SIGINT])
        )
        let outcome: Result<Void, any Error>
        do {
            try await runner.run(group: group)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await invoker.shutdown()
        try await group.shutdownGracefully()
        try outcome.get()
    }
}
