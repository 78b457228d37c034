import ArgumentParser
import Foundation
import NIOPosix
import RillKinesis

/// `rill archive`: what Kinesis Data Firehose does with a Kinesis stream source and an S3 destination, to a folder.
struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Deliver a stream's records to a folder in objects, as Firehose delivers them to S3.",
        discussion: """
            Joins the consumer group GROUP (creating it at TRIM_HORIZON if it does not exist) and takes its share \
            of the stream's shards through leases; several archivers with the same group share the shards. Records \
            are buffered per shard and written as one object whenever --buffer-size MB of record data or \
            --buffer-interval seconds is reached, to DIR/<prefix>YYYY/MM/DD/HH/ (UTC, the first record's arrival) \
            as STREAM-1-YYYY-MM-DD-HH-MM-SS-<id>, the id derived from the shard and the first sequence number. An \
            object is fsynced and renamed into place before the group is checkpointed past it, and a replay after \
            a crash writes the same name, so across kill -9 every record lands in exactly one object. KPL \
            aggregates are written as their user records. An object that cannot be written after 4 attempts goes \
            to --error-output-prefix as Firehose's error records. SIGTERM or SIGINT writes what is buffered, \
            checkpoints and releases the leases. See docs/archive.md.
            """
    )

    @OptionGroup var client: ClientOptions

    @Option(help: "The stream to archive.")
    var stream: String

    @Option(help: "The consumer group (docs/consumers.md) whose leases and checkpoints the archiver uses.")
    var group: String

    @Option(help: "The destination folder (Firehose's bucket).")
    var to: String

    @Option(help: "This worker's name in the group's leases (default HOST:PID).")
    var workerId: String?

    @Option(help: "Prefix of the objects' folders (before YYYY/MM/DD/HH/); none by default, as Firehose.")
    var prefix: String?

    @Option(help: "Prefix of the error objects' folders (before YYYY/MM/DD/HH/); default processing-failed/.")
    var errorOutputPrefix: String?

    @Option(
        help: "BufferingHints.IntervalInSeconds: write an object at the latest this long after its first record, 0–900."
    )
    var bufferInterval = 300

    @Option(help: "BufferingHints.SizeInMBs: write an object once this much record data is buffered, 1–128.")
    var bufferSize = 5

    @Option(help: "UNCOMPRESSED or GZIP (objects then end in .gz).")
    var compression = "UNCOMPRESSED"

    @Flag(help: "Write \\n after each record (Firehose's new line delimiter).")
    var newlineDelimiter = false

    @Option(help: "Seconds between progress lines on standard error.")
    var reportInterval = 10

    func validate() throws {
        guard ArchiveSettings.bufferSeconds.contains(bufferInterval) else {
            throw ValidationError("--buffer-interval must be 0–900 seconds")
        }
        guard ArchiveSettings.bufferMegabytes.contains(bufferSize) else {
            throw ValidationError("--buffer-size must be 1–128 MB")
        }
        guard ArchiveSettings.Compression(rawValue: compression.uppercased()) != nil else {
            throw ValidationError("--compression must be UNCOMPRESSED or GZIP")
        }
        guard !to.isEmpty else { throw ValidationError("--to must name a folder") }
        for (name, value) in [("--prefix", prefix), ("--error-output-prefix", errorOutputPrefix)] {
            guard let value else { continue }
            // A prefix is a path under the folder: no way out of it, and no expression we would not evaluate.
            guard !value.hasPrefix("/"), !value.split(separator: "/").contains(".."), !value.contains("!{") else {
                throw ValidationError("\(name) must be a relative path without .. or !{…} expressions")
            }
        }
        guard (1...3600).contains(reportInterval) else { throw ValidationError("--report-interval must be 1–3600") }
    }

    func run() async throws {
        let worker = workerId ?? "\(ProcessInfo.processInfo.hostName):\(getpid())"
        let settings = ArchiveSettings(
            streamName: stream,
            bufferBytes: bufferSize * 1024 * 1024,
            bufferIntervalMillis: Int64(bufferInterval) * 1000,
            compression: ArchiveSettings.Compression(rawValue: compression.uppercased()) ?? .uncompressed,
            newlineDelimiter: newlineDelimiter,
            prefix: prefix,
            errorOutputPrefix: errorOutputPrefix
        )
        let runner = ArchiveRunner(
            client: client,
            stream: stream,
            group: group,
            worker: worker,
            settings: settings,
            folder: ArchiveFolder(root: to, worker: worker),
            signals: SignalWatcher(signals: [SIGTERM, SIGINT]),
            reportInterval: .seconds(reportInterval)
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // fsync and rename block: they run here, never on the event loop or the cooperative pool.
        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        let outcome: Result<ArchiveControl.Totals, any Error>
        do {
            outcome = .success(try await runner.run(group: group, threadPool: threadPool))
        } catch {
            outcome = .failure(error)
        }
        try await threadPool.shutdownGracefully()
        try await group.shutdownGracefully()
        let totals = try outcome.get()
        print(
            "archived \(totals.records) records (\(totals.bytes) bytes) in \(totals.objects) objects; "
                + "\(totals.errorRecords) records in \(totals.errorObjects) error objects"
        )
    }
}
