import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import RillClient
import RillKinesis
import RillTLS

/// `rill bench`: the load generator. Writes with PutRecords and PutRecord, then drains every shard
/// with GetRecords, and reports throughput and latency percentiles per phase.
public struct BenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load a Rill (or any Kinesis) endpoint and report throughput and latency.",
        discussion: """
            Phases run in order: put-records (closed loop, --producers connections each sending PutRecords \
            calls of --batch records), put-record (closed loop, or open loop at --rate records/s \
            with latency measured from each request's intended send time), then read (one connection \
            per shard draining it from TRIM_HORIZON with GetRecords, Limit 10000). Each phase stops at \
            --duration seconds or --records records, whichever comes first. MB are 10^6 bytes of record data.
            """
    )

    @Option(
        help:
            "The Kinesis endpoint (plain HTTP); several, comma-separated, spread the connections over the nodes of a cluster."
    )
    var endpoint = "http://127.0.0.1:4567"

    @Option(help: "Use this existing stream instead of creating (and afterwards deleting) bench-<random>.")
    var stream: String?

    @Option(help: "Shards of the stream the bench creates.")
    var shards = 4

    @Flag(help: "Keep the stream the bench created instead of deleting it at the end.")
    var keep = false

    @Option(help: "Which phases to run: put-records, put-record, read, or all.")
    var mode: BenchMode = .all

    @Option(
        name: .customLong("protocol"),
        help: "Body encoding of the measured calls: json (AWS JSON 1.1) or cbor (CBOR 1.1, what the Java SDK sends)."
    )
    var wire: BenchProtocol = .json

    @Option(
        name: .customLong("kms-key"),
        help:
            "Encrypt the stream's records at rest under this key (id, ARN or alias, e.g. alias/aws/kinesis) before the phases run: StartStreamEncryption."
    )
    var kmsKey: String?

    @Option(help: "Concurrent producer connections in the put phases.")
    var producers = 8

    @Option(help: "Records per PutRecords call (1–500).")
    var batch = 500

    @Option(help: "Bytes of random data per record.")
    var recordBytes = 1024

    @Option(help: "Seconds each phase runs at most.")
    var duration = 10.0

    @Option(help: "Records each phase writes or reads at most.")
    var records: Int?

    @Option(help: "Run put-record open loop at this many records/s, latency corrected for coordinated omission.")
    var rate: Double?

    @Option(help: "SwiftNIO event loop threads for the client's connections.")
    var eventLoopThreads = 1

    @Flag(help: "Also print the results as one JSON object on the last line of stdout.")
    var json = false

    @Flag(
        help:
            "Speak HTTP/2: with prior knowledge (h2c) to http:// endpoints, by ALPN to https:// ones; one stream per call."
    )
    var http2 = false

    @Option(
        name: .customLong("ca-bundle"),
        help: "PEM CA certificates an https --endpoint is checked against (default: the system's)."
    )
    var caBundle: String?

    @Option(
        help: """
            AKID:SECRET to SigV4-sign every call with, for a cluster that checks signatures (--credentials-file). \
            Defaults to AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY when both are set; otherwise calls carry an \
            unsigned credential scope, which only a cluster without credentials accepts.
            """
    )
    var credentials: String?

    @Option(help: "The region calls are signed for; it selects the stream namespace on the server.")
    var region = "us-east-1"

    @Flag(
        help: """
            Put as idempotent producers (docs/producers.md): every call carries a producer id per connection and \
            its records' producer sequences, to measure what the server's dedup costs.
            """
    )
    var idempotent = false

    public init() {}

    public func validate() throws {
        guard Self.endpoints(endpoint) != nil else {
            throw ValidationError("--endpoint must look like http[s]://host:port[,http[s]://host:port...]")
        }
        guard shards >= 1 else { throw ValidationError("--shards must be at least 1") }
        guard producers >= 1 else { throw ValidationError("--producers must be at least 1") }
        guard (1...500).contains(batch) else { throw ValidationError("--batch must be 1…500 (the PutRecords limit)") }
        guard (1...1_048_576).contains(recordBytes) else { throw ValidationError("--record-bytes must be 1…1048576") }
        guard duration > 0, duration <= 86_400 else { throw ValidationError("--duration must be 0…86400 seconds") }
        if let records, records < 1 { throw ValidationError("--records must be at least 1") }
        if let rate, !(rate > 0 && rate <= 10_000_000) { throw ValidationError("--rate must be 0…10000000") }
        guard (1...64).contains(eventLoopThreads) else { throw ValidationError("--event-loop-threads must be 1…64") }
        if stream != nil && keep { throw ValidationError("--keep only applies to a stream the bench creates") }
        if let credentials, SigV4Signer(credentials: credentials, region: region) == nil {
            throw ValidationError("--credentials must be ACCESS_KEY_ID:SECRET")
        }
    }

    /// `--credentials`, else the AWS environment variables, else none.
    var signer: SigV4Signer? {
        SigV4Signer.resolve(credentials: credentials, region: region, environment: ProcessInfo.processInfo.environment)
    }

    public func run() async throws {
        guard var endpoints = Self.endpoints(endpoint) else { throw ValidationError("bad --endpoint") }
        if endpoints.contains(where: \.secure) {
            let tls = try APITLS.clientContext(trusting: caBundle, protocols: http2 ? ["h2"] : ["http/1.1"])
            endpoints = endpoints.map { $0.withTLS(tls) }
        }
        if http2 { endpoints = endpoints.map { $0.withHTTP2() } }
        let settings = BenchSettings(
            endpoints: endpoints,
            producers: producers,
            batch: batch,
            recordBytes: recordBytes,
            duration: duration,
            recordCap: records,
            eventLoopThreads: eventLoopThreads,
            wire: wire.wire,
            signer: signer,
            seed: UInt64.random(in: 1...UInt64.max),
            idempotent: idempotent
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: eventLoopThreads)
        let outcome: Result<Report, any Error>
        do {
            outcome = .success(try await runPhases(settings: settings, group: group))
        } catch {
            outcome = .failure(error)
        }
        try await group.shutdownGracefully()
        let report = try outcome.get()
        print(report.text())
        if json { print(report.json()) }
        if report.failure != nil { throw ExitCode.failure }
    }

    static func endpoints(_ text: String) -> [Endpoint]? {
        let parsed = text.split(separator: ",").map { Endpoint(String($0)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { return nil }
        return parsed.compactMap { $0 }
    }

    /// Sets up the stream, runs the chosen phases, and removes a stream it created even when a phase fails.
    private func runPhases(settings: BenchSettings, group: MultiThreadedEventLoopGroup) async throws -> Report {
        let admin = try await KinesisClient.connect(to: settings.endpoint, on: group, signer: settings.signer)
        let name = stream ?? "bench-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        if stream == nil {
            Progress.writeStandardError("creating stream \(name) with \(shards) shards\n")
            try await admin.createStream(name, shards: shards)
        }
        var report = Report(settings: settings, stream: name, phases: [])
        // Set-up failures end the run with an error; a phase's failure is reported with the phases before it.
        var setupError: (any Error)? = nil
        do {
            try await admin.waitUntilActive(name)
            if let kmsKey {
                Progress.writeStandardError("encrypting \(name)'s records at rest under \(kmsKey)\n")
                try await admin.startStreamEncryption(name, keyId: kmsKey)
            }
            report.replication = await ReplicationCheck.run(stream: name, endpoint: settings.endpoint, group: group)
            Progress.writeStandardError("replication: \(report.replication.summary)\n")
            try await phases(into: &report, stream: name, group: group, admin: admin)
        } catch {
            if report.failure == nil { setupError = error }
        }
        if stream == nil && !keep {
            do {
                try await admin.deleteStream(name)
            } catch {
                Progress.writeStandardError("warning: could not delete stream \(name): \(error)\n")
            }
        }
        await admin.close()
        if let setupError { throw setupError }
        return report
    }

    /// Runs the chosen phases in order into `report`. A phase that cannot run (its set-up call
    /// fails) ends the run, but the phases before it are still reported, with the failure.
    private func phases(
        into report: inout Report,
        stream: String,
        group: MultiThreadedEventLoopGroup,
        admin: KinesisClient
    ) async throws {
        let settings = report.settings
        let payload = PayloadFactory(
            streamName: stream,
            recordBytes: settings.recordBytes,
            seed: settings.seed,
            wire: settings.wire
        )
        var current = ""
        do {
            if mode == .all || mode == .putRecords {
                current = "put-records"
                let phase = PutPhase(name: current, kind: .batch(settings.batch), settings: settings, payload: payload)
                report.phases.append(try await phase.run(group: group))
            }
            if mode == .all || mode == .putRecord {
                current = "put-record"
                let phase = PutPhase(name: current, kind: .single, settings: settings, payload: payload, rate: rate)
                report.phases.append(try await phase.run(group: group))
            }
            if mode == .all || mode == .read {
                current = "read"
                let written = report.phases.isEmpty ? nil : report.phases.reduce(0) { $0 + $1.tally.records }
                let phase = ReadPhase(settings: settings, stream: stream, expected: written)
                report.phases.append(try await phase.run(group: group, admin: admin))
            }
        } catch {
            report.failure = "\(current) phase failed: \(error)"
            throw error
        }
    }
}

/// Which phases `rill bench` runs.
enum BenchMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    case putRecords = "put-records"
    case putRecord = "put-record"
    case read
    case all
}

/// `--protocol`: the encoding of PutRecords, PutRecord and GetRecords (set-up calls are always JSON).
enum BenchProtocol: String, ExpressibleByArgument, CaseIterable, Sendable {
    case json
    case cbor

    var wire: WireProtocol { self == .cbor ? .cbor : .json }
}

/// The options the phases read, validated and resolved once.
struct BenchSettings: Sendable {
    var endpoints: [Endpoint]
    /// Where set-up calls go: the first endpoint.
    var endpoint: Endpoint { endpoints[0] }
    /// Connection `index`'s endpoint: round robin over the nodes given.
    func endpoint(for index: Int) -> Endpoint { endpoints[index % endpoints.count] }
    var producers: Int
    var batch: Int
    var recordBytes: Int
    var duration: Double
    /// `--records`: at most this many records per phase.
    var recordCap: Int?
    var eventLoopThreads: Int
    /// The encoding of the measured calls.
    var wire: WireProtocol
    /// Signs every call when the cluster checks signatures.
    var signer: SigV4Signer?
    /// Seeds record data and partition keys; fresh each run.
    var seed: UInt64
    /// `--idempotent`: put calls carry producer headers.
    var idempotent = false
}
