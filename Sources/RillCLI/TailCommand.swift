import ArgumentParser
import Foundation
import NIOPosix
import RillKinesis

/// `rill tail`: follows every shard of a stream, children after their parents, and prints each record.
struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print a stream's records as they arrive, following every shard and its children after a reshard.",
        discussion: """
            Prints each record's data on a line of its own, or with --json one JSON object per record: shardId, \
            sequenceNumber, subSequenceNumber (records de-aggregated from a KPL aggregate), partitionKey, \
            explicitHashKey (aggregated records that carry one), approximateArrivalTimestamp (epoch seconds) and data \
            (base64). A child shard is read only after all its parents are read to their end, so each partition \
            key's records come out in order across a split or merge. Each shard is polled at most five times a \
            second, every 0.5 s once caught up, with backoff when throttled.

            With --group G, rill tail is a worker of consumer group G (docs/consumers.md), as a KCL worker: it \
            creates the group if needed, reads only the shards whose leases it holds (its fair share; several tails \
            of one group split the shards), each from its checkpoint or, for a shard without one, from --from, and \
            checkpoints each shard with the lease's token once its records are written to standard output. \
            SIGTERM, SIGINT, --max-records and --idle-exit write the last checkpoints and release the leases, so a \
            tail started again with the same group prints the records after the last one printed (after a kill -9, \
            the records since the last checkpoint come again: at least once). With a group, a KPL aggregate is \
            printed whole, even past --max-records, because checkpoints name whole Kinesis records.
            """
    )

    @OptionGroup var client: ClientOptions

    @Option(help: "The stream to read.")
    var stream: String

    @Option(
        help: """
            Where to start: latest (only records put from now on), trim-horizon (the oldest kept), or a time, \
            ISO 8601 (2026-12-06T08:00:00Z) or seconds since the epoch.
            """
    )
    var from = "latest"

    @Flag(help: "Print one JSON object per record instead of its data.")
    var json = false

    @Option(help: "Stop after printing this many records (de-aggregated records count one each).")
    var maxRecords: Int?

    @Option(help: "Stop once no record has arrived for this many seconds.")
    var idleExit: Double?

    @Flag(help: "Print KPL aggregated records as they are instead of the records inside them.")
    var noDeaggregate = false

    @Option(help: "Read as a worker of this consumer group: its share of the shards, from their checkpoints.")
    var group: String?

    @Option(help: "This worker's name in the group's leases (default HOST:PID); needs --group.")
    var workerId: String?

    func validate() throws {
        _ = try startPosition()
        if let maxRecords, maxRecords < 1 { throw ValidationError("--max-records must be at least 1") }
        if let idleExit, !(idleExit > 0 && idleExit <= 86_400) {
            throw ValidationError("--idle-exit must be 0…86400 seconds")
        }
        if workerId != nil && group == nil { throw ValidationError("--worker-id needs --group") }
        if let workerId, !(1...256).contains(workerId.count) {
            throw ValidationError("--worker-id must be 1–256 characters")
        }
    }

    func startPosition() throws -> ShardLineage.StartPosition {
        guard let position = Self.parseStart(from) else {
            throw ValidationError("--from must be latest, trim-horizon, an ISO 8601 time or epoch seconds, not \(from)")
        }
        return position
    }

    static func parseStart(_ text: String) -> ShardLineage.StartPosition? {
        switch text.lowercased() {
        case "latest": return .latest
        case "trim-horizon", "trim_horizon": return .trimHorizon
        default: break
        }
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 { return .atTimestamp(seconds) }
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime],
        ] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return .atTimestamp(date.timeIntervalSince1970) }
        }
        return nil
    }

    func run() async throws {
        let runner = TailRunner(
            client: client,
            stream: stream,
            start: try startPosition(),
            json: json,
            maxRecords: maxRecords,
            idleExit: idleExit.map { .milliseconds(Int64($0 * 1000)) },
            deaggregate: !noDeaggregate,
            group: group.map { name in
                TailRunner.Group(
                    name: name,
                    worker: workerId ?? "\(ProcessInfo.processInfo.hostName):\(getpid())",
                    signals: SignalWatcher(signals: [SIGTERM, SIGINT])
                )
            }
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let outcome: Result<Void, any Error>
        do {
            try await runner.run(group: group)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try await group.shutdownGracefully()
        try outcome.get()
    }
}
