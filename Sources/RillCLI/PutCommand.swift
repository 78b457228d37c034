import ArgumentParser
import NIOCore
import NIOPosix
import RillKinesis

/// `rill put`: writes lines or files to a stream with PutRecords, batched, retried and in order per key.
struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Write records to a stream: each line of stdin or FILEs, or each whole file.",
        discussion: """
            Records go out in PutRecords calls of up to 500 records and 5 MiB. Throttling and internal errors \
            are retried with exponential backoff and jitter, the whole call or each failed record of a partial \
            failure; a record is never sent before every earlier record with its partition key has been written, \
            and a record that fails for good takes the later records of its key with it, unsent. \
            Key templates: {n} record number from 0, {lineno} line number from 1, {file} the file name, {md5} hex \
            MD5 of the data, {random} 32 random hex digits, {json:PATH} a field of a JSON line; {{ and }} are \
            literal braces. Exits 1 when any record could not be written, after saying how many.
            """
    )

    @OptionGroup var client: ClientOptions

    @Option(help: "The stream to write to.")
    var stream: String

    @Argument(help: "Files to read; none or - reads stdin.")
    var files: [String] = []

    @Flag(help: "One record per line (the default; the newline is not part of the record), or one per file.")
    var split: Split = .lines

    @Option(help: "Partition key template, e.g. 'user-{n}' (default: {random}).")
    var partitionKey: String?

    @Option(help: "Take the partition key from this field of each JSON line, e.g. user.id.")
    var partitionKeyField: String?

    @Option(help: "Explicit hash key template (a decimal in 0…2^128-1 once rendered), e.g. 0 or '{json:hash}'.")
    var explicitHashKey: String?

    @Option(help: "Milliseconds a record may wait for others to fill its call.")
    var linger = 50

    @Option(help: "Sends per record before it counts as failed.")
    var maxAttempts = 10

    @Option(help: "PutRecords calls in flight at once, each on its own connection.")
    var concurrency = 4

    @Flag(help: "Pack records into KPL aggregated records (per predicted shard), as the Kinesis Producer Library does.")
    var aggregate = false

    @Option(help: "Largest aggregated record in bytes (the KPL's AggregationMaxSize; at most 1048576).")
    var aggregateMaxBytes = 51_200

    enum Split: String, EnumerableFlag {
        case lines, wholeFile
    }

    func validate() throws {
        if partitionKey != nil && partitionKeyField != nil {
            throw ValidationError("give --partition-key or --partition-key-field, not both")
        }
        _ = try keyTemplate()
        if let explicitHashKey { _ = try Self.template(explicitHashKey, flag: "--explicit-hash-key") }
        guard (0...60_000).contains(linger) else { throw ValidationError("--linger must be 0…60000 ms") }
        guard (1...100).contains(maxAttempts) else { throw ValidationError("--max-attempts must be 1…100") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be 1…64") }
        guard (1024...KPLAggregation.maxKinesisRecordBytes).contains(aggregateMaxBytes) else {
            throw ValidationError("--aggregate-max-bytes must be 1024…1048576")
        }
        if !aggregate && aggregateMaxBytes != 51_200 {
            throw ValidationError("--aggregate-max-bytes needs --aggregate")
        }
    }

    func keyTemplate() throws -> PartitionKeyTemplate {
        if let partitionKeyField {
            do {
                return try PartitionKeyTemplate.jsonField(partitionKeyField)
            } catch {
                throw ValidationError("--partition-key-field: \(error)")
            }
        }
        guard let partitionKey else { return .random }
        return try Self.template(partitionKey, flag: "--partition-key")
    }

    private static func template(_ text: String, flag: String) throws -> PartitionKeyTemplate {
        do {
            return try PartitionKeyTemplate(text)
        } catch {
            throw ValidationError("\(flag): \(error)")
        }
    }

    func run() async throws {
        var settings = PutBatcher.Settings()
        settings.linger = .milliseconds(linger)
        settings.maxAttempts = maxAttempts
        settings.maxInFlightCalls = concurrency
        let runner = PutRunner(
            client: client,
            stream: stream,
            settings: settings,
            keys: try keyTemplate(),
            explicitHashKeys: try explicitHashKey.map { try Self.template($0, flag: "--explicit-hash-key") },
            input: InputRecords(files: files, mode: split == .lines ? .lines : .wholeFile),
            aggregateMaxBytes: aggregate ? aggregateMaxBytes : nil
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let outcome: Result<PutRunner.Outcome, any Error>
        do {
            outcome = .success(try await runner.run(group: group, pool: pool))
        } catch {
            outcome = .failure(error)
        }
        try await pool.shutdownGracefully()
        try await group.shutdownGracefully()
        let result = try outcome.get()
        StandardStream.error(result.report + "\n")
        if !result.succeeded { throw ExitCode(1) }
    }
}
