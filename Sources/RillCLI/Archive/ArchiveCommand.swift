import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import RillClient
import RillKinesis
import RillTLS

/// `rill archive`: what Kinesis Data Firehose does with a Kinesis stream source and an S3 destination, to a folder or
/// an S3-compatible bucket.
struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Deliver a stream's records in objects to a folder or an S3 bucket, as Firehose delivers them to S3.",
        discussion: """
            Joins the consumer group GROUP (creating it at TRIM_HORIZON if it does not exist) and takes its share \
            of the stream's shards through leases; several archivers with the same group share the shards. Records \
            are buffered per shard and written as one object whenever --buffer-size MB of record data or \
            --buffer-interval seconds is reached, to DEST/<prefix>YYYY/MM/DD/HH/ (UTC, the first record's arrival; \
            a prefix may hold Firehose's !{timestamp:…} and !{firehose:…} expressions instead) as \
            STREAM-1-YYYY-MM-DD-HH-MM-SS-<id>, the id derived from the shard and the first sequence number. DEST is \
            a folder, or s3://BUCKET[/PATH] with --s3-endpoint (SigV4-signed PutObject). An object is durably in \
            place (fsynced and renamed, or acknowledged by S3) before the group is checkpointed past it, and a \
            replay after a crash writes the same name, so across kill -9 every record lands in exactly one object. \
            KPL aggregates are written as their user records. An object that cannot be written after 4 attempts \
            goes to --error-output-prefix as Firehose's error records; S3 refusing an object (a 4xx such as \
            NoSuchBucket or AccessDenied) stops the archiver with an error. SIGTERM or SIGINT writes what is \
            buffered, checkpoints and releases the leases. See docs/archive.md.
            """
    )

    @OptionGroup var client: ClientOptions

    @Option(help: "The stream to archive.")
    var stream: String

    @Option(help: "The consumer group (docs/consumers.md) whose leases and checkpoints the archiver uses.")
    var group: String

    @Option(help: "The destination: a folder, or s3://BUCKET[/PATH] (Firehose's bucket).")
    var to: String

    @Option(help: "The S3-compatible endpoint for an s3:// destination (default https://s3.REGION.amazonaws.com).")
    var s3Endpoint: String?

    @Option(help: "The region S3 calls are signed for (default: --region).")
    var s3Region: String?

    @Option(help: "This worker's name in the group's leases (default HOST:PID).")
    var workerId: String?

    @Option(
        help: """
            Firehose's Prefix: put before YYYY/MM/DD/HH/, or with a !{timestamp:PATTERN} expression in its place; \
            !{firehose:random-string} too. None by default.
            """
    )
    var prefix: String?

    @Option(
        help: """
            Firehose's ErrorOutputPrefix (default processing-failed/ before YYYY/MM/DD/HH/); required when --prefix \
            has expressions, and then must contain !{firehose:error-output-type}.
            """
    )
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
        guard let target = ArchiveTarget(to) else {
            throw ValidationError("--to must be a folder or s3://BUCKET[/PATH] with a valid bucket name")
        }
        let prefixes = try checkedPrefixes()
        switch target {
        case .folder:
            guard s3Endpoint == nil, s3Region == nil else {
                throw ValidationError("--s3-endpoint and --s3-region go with an s3:// destination")
            }
            // A prefix is a path under the folder: no way out of it. Literal text is the same at every instant, so
            // one evaluation shows it.
            for (name, folder) in [
                ("--prefix", prefixes.dataFolder(arrivalMillis: 0, identity: "")),
                ("--error-output-prefix", prefixes.errorFolder(arrivalMillis: 0, identity: "")),
            ] where folder.hasPrefix("/") || folder.split(separator: "/").contains("..") {
                throw ValidationError("\(name) must make a relative path without .. under the folder")
            }
        case .bucket:
            if let s3Endpoint, RillClient.Endpoint(s3Endpoint) == nil {
                throw ValidationError("--s3-endpoint must look like http[s]://host[:port]")
            }
            guard client.signer != nil else {
                throw ValidationError(
                    "an s3:// destination needs credentials: --credentials, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                )
            }
        }
        guard (1...3600).contains(reportInterval) else { throw ValidationError("--report-interval must be 1–3600") }
    }

    /// The prefixes by Firehose's rules; the error is Firehose's message.
    private func checkedPrefixes() throws -> ArchivePrefixes {
        do {
            return try ArchivePrefixes(prefix: prefix, errorOutputPrefix: errorOutputPrefix)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The folder, or the bucket behind a client whose connections live on `group`.
    private func destination(
        group: any EventLoopGroup,
        threadPool: NIOThreadPool,
        worker: String
    ) throws -> any ArchiveDestination {
        switch ArchiveTarget(to) {
        case .folder(let path)?:
            return ArchiveFolderDestination(folder: ArchiveFolder(root: path, worker: worker), threadPool: threadPool)
        case .bucket(let bucket, let keyPrefix)?:
            let region = s3Region ?? client.region
            let text = s3Endpoint ?? "https://s3.\(region).amazonaws.com"
            guard let parsed = RillClient.Endpoint(text) else { throw ValidationError("bad --s3-endpoint \(text)") }
            // An https endpoint is checked against the system's trusted CAs.
            let endpoint = parsed.withTLS(parsed.secure ? try APITLS.clientContext(trusting: nil) : nil)
            guard let keys = client.signer else { throw ValidationError("an s3:// destination needs credentials") }
            // A session token belongs to the environment's keys, not to --credentials.
            let environment = ProcessInfo.processInfo.environment
            let token =
                client.credentials == nil ? environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 } : nil
            let signer = SigV4Signer(accessKeyID: keys.accessKeyID, secret: keys.secret, region: region)
            let s3 = S3Client(endpoint: endpoint, bucket: bucket, signer: signer, sessionToken: token, on: group)
            return ArchiveS3Destination(client: s3, keyPrefix: keyPrefix)
        case nil:
            throw ValidationError("bad --to \(to)")
        }
    }

    func run() async throws {
        let worker = workerId ?? "\(ProcessInfo.processInfo.hostName):\(getpid())"
        let settings = ArchiveSettings(
            streamName: stream,
            bufferBytes: bufferSize * 1024 * 1024,
            bufferIntervalMillis: Int64(bufferInterval) * 1000,
            compression: ArchiveSettings.Compression(rawValue: compression.uppercased()) ?? .uncompressed,
            newlineDelimiter: newlineDelimiter,
            prefixes: try checkedPrefixes()
        )
        let loopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // fsync, rename and gzip block: they run here, never on the event loop or the cooperative pool.
        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        let destination: any ArchiveDestination
        do {
            destination = try self.destination(group: loopGroup, threadPool: threadPool, worker: worker)
        } catch {
            try await threadPool.shutdownGracefully()
            try await loopGroup.shutdownGracefully()
            throw error
        }
        let runner = ArchiveRunner(
            client: client,
            stream: stream,
            group: group,
            worker: worker,
            settings: settings,
            destination: destination,
            signals: SignalWatcher(signals: [SIGTERM, SIGINT]),
            reportInterval: .seconds(reportInterval)
        )
        let outcome: Result<ArchiveControl.Totals, any Error>
        do {
            outcome = .success(try await runner.run(group: loopGroup, threadPool: threadPool))
        } catch {
            outcome = .failure(error)
        }
        await destination.close()
        try await threadPool.shutdownGracefully()
        try await loopGroup.shutdownGracefully()
        let totals = try outcome.get()
        print(
            "archived \(totals.records) records (\(totals.bytes) bytes) in \(totals.objects) objects; "
                + "\(totals.errorRecords) records in \(totals.errorObjects) error objects"
        )
    }
}
