import ArgumentParser
import Foundation
import RillChaosRunner
import RillNode
import RillTLS

#if canImport(Glibc)
import Glibc
#endif

/// `rill chaos`: a fault-injection run against a local cluster it starts itself (or, with `--endpoint`, a
/// running one), judged by the history checker. The work is in RillChaosRunner; this parses flags, watches
/// for Ctrl-C and sets the exit status.
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract:
            "Run a cluster under a workload while killing, pausing, cutting and slowing nodes; check the history.",
        discussion: """
            Exit status: 0 when the verdict is valid, 1 when the checker found a violation, 2 when the run \
            could not be completed or judged (harness error, cluster never recovered), 3 when the verdict is \
            valid but a node crashed on its own or stopped recovering after a fault. See docs/chaos.md.
            """
    )

    @Option(help: "Nodes in the cluster (3 to 5; shards keep three replicas, one per zone).")
    var nodes = 3

    @Option(help: "Seconds the workload and the faults run (start-up and the final check come on top).")
    var duration = 300.0

    @Option(
        help: """
            Faults to inject, comma-separated: kill, pause, wipe, allkill, partition, clock, disk, powerloss, delay, \
            netpartition, reshard, replace (docs/chaos.md). Default: kill,pause,wipe,allkill; with --endpoint partition,clock,delay.
            """
    )
    var faults: String?

    @Option(
        name: .customLong("endpoint"),
        help: """
            Work on a running cluster instead of starting one: its nodes' API URLs, comma-separated (routers may be \
            added; they carry workload only). The nodes need --fault-injection; only partition, clock and delay apply.
            """
    )
    var endpoints: String?

    @Flag(help: "Run each node in a network namespace of its own (root and iproute2 needed); enables netpartition.")
    var netns = false

    @Flag(
        inversion: .prefixedNo,
        help: """
            Catalog churn: from the nodes' launch (before /ready) create small streams, write to them, split, merge, \
            rescale and delete them at random times; after healing read them back and check every shard group's \
            placement (docs/chaos.md).
            """
    )
    var churn = true

    @Option(help: "Seed of the fault schedule and the workers' choices.")
    var seed: UInt64 = 1

    @Option(help: "Directory for history.jsonl, verdict.json, summary.txt and nodes/ (must not hold a run).")
    var out: String

    @Option(help: "The rill binary to run nodes with (default: this executable).")
    var binary: String?

    @Option(help: "Shards of the stream under test.")
    var shards = 4

    @Option(help: "Concurrent writer processes.")
    var writers = 4

    @Option(help: "Records per second all writers together aim for.")
    var rate = 1000.0

    @Option(
        name: .customLong("write-timeout"),
        help: "Seconds a writer waits for a reply before recording the write indeterminate."
    )
    var writeTimeout = 3.0

    @Option(
        name: .customLong("retrying-writers"),
        help: """
            Writers send a record again, through any node, while its outcome is unknown (a timeout, a lost \
            connection, a 5xx, InternalFailure), until it is acknowledged or refused or the run ends: `idempotent` \
            with producer ids (every record must be stored once), `plain` without (copies are counted, not \
            anomalies). Default: never retry (docs/chaos.md).
            """
    )
    var retryingWriters: String?

    @Option(help: "Consumers; each reads every shard.")
    var readers = 1

    @Option(name: .customLong("node-log-level"), help: "--log-level of the nodes.")
    var nodeLogLevel = "info"

    @Option(
        name: .customLong("node-log-format"),
        help: "--log-format of the nodes: json has millisecond times, to line a node's log up with history.jsonl."
    )
    var nodeLogFormat: LogFormat = .text

    @Flag(
        name: .customLong("peer-tls"),
        help: "Mutual TLS between the nodes: a cluster CA and a node certificate made under OUT/peer-tls."
    )
    var peerTLS = false

    @Flag(
        help: """
            Encrypt the stream under test at rest (StartStreamEncryption with alias/aws/kinesis before the workload); \
            the nodes share the key store OUT/key-store.json.
            """
    )
    var encrypt = false

    func validate() throws {
        guard (3...5).contains(nodes) else { throw ValidationError("--nodes must be 3…5") }
        guard duration >= 5, duration <= 86_400 else { throw ValidationError("--duration must be 5…86400 seconds") }
        guard (1...64).contains(shards) else { throw ValidationError("--shards must be 1…64") }
        guard (1...64).contains(writers) else { throw ValidationError("--writers must be 1…64") }
        guard rate >= 1, rate <= 1_000_000 else { throw ValidationError("--rate must be 1…1000000 records/s") }
        guard writeTimeout >= 0.1, writeTimeout <= 300 else {
            throw ValidationError("--write-timeout must be 0.1…300 seconds")
        }
        guard (0...16).contains(readers) else { throw ValidationError("--readers must be 0…16") }
        if let retryingWriters, RetryingWriters(rawValue: retryingWriters) == nil {
            throw ValidationError("--retrying-writers must be idempotent or plain")
        }
        if let faults, case .failure(let error) = NemesisKind.parseList(faults) {
            guard case .harness(let message) = error else { throw ValidationError("\(error)") }
            throw ValidationError(message)
        }
        if let problem = try makeConfiguration(executable: "rill").problem { throw ValidationError(problem) }
        if peerTLS, endpoints != nil {
            throw ValidationError("--peer-tls configures the nodes a run starts; not with --endpoint")
        }
        if let binary, !FileManager.default.isExecutableFile(atPath: binary) {
            throw ValidationError("--binary \(binary) is not an executable file")
        }
    }

    private static func outcome(of run: ChaosRun) async -> Result<ChaosOutcome, ChaosError> {
        do {
            return .success(try await run.run())
        } catch {
            return .failure(error)
        }
    }

    private func makeConfiguration(executable: String) throws -> ChaosConfiguration {
        var configuration = ChaosConfiguration(
            outDirectory: URL(fileURLWithPath: out, isDirectory: true).standardizedFileURL,
            binary: executable
        )
        configuration.endpoints = (endpoints ?? "").split(separator: ",").map(String.init)
        configuration.netns = netns
        configuration.churn = churn
        configuration.nodes = nodes
        configuration.duration = duration
        configuration.faults =
            try faults.map { try NemesisKind.parseList($0).get() }
            ?? NemesisKind.defaults(remote: !configuration.endpoints.isEmpty)
        if !configuration.endpoints.isEmpty {
            // A cluster that outlives the run may hold the streams of earlier runs, with the same record ids.
            configuration.streamName = "chaos-\(Int(Date().timeIntervalSince1970))-\(seed)"
        }
        configuration.seed = seed
        configuration.shards = shards
        configuration.writers = writers
        configuration.readers = readers
        configuration.retryingWriters = retryingWriters.flatMap(RetryingWriters.init(rawValue:))
        configuration.rate = rate
        configuration.writeTimeout = .milliseconds(Int(writeTimeout * 1000))
        configuration.nodeArguments = ["--log-level", nodeLogLevel, "--log-format", nodeLogFormat.rawValue]
        if encrypt { configuration.encryptionKeyID = "alias/aws/kinesis" }
        return configuration
    }

    func run() async throws {
        let executable =
            binary ?? (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var configuration = try makeConfiguration(executable: executable)
        configuration.nodeArguments += try securityArguments(out: configuration.outDirectory.path)

        // Ctrl-C or SIGTERM cancels the run, which still stops every node it started.
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM])
        let run = ChaosRun(configuration: configuration)
        let result = await withTaskGroup(of: Result<ChaosOutcome, ChaosError>?.self) { tasks in
            tasks.addTask { await Self.outcome(of: run) }
            tasks.addTask {
                _ = await signals.next()
                return nil
            }
            var result: Result<ChaosOutcome, ChaosError> = .failure(.interrupted)
            for await finished in tasks {
                // Whichever ends first ends the other: the run on a signal, the signal wait when the run is done.
                tasks.cancelAll()
                if let finished { result = finished }
            }
            return result
        }
        switch result {
        case .success(let outcome):
            print(outcome.summary(configuration: configuration), terminator: "")
            print("history, verdict and node logs: \(configuration.outDirectory.path)")
            if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
        case .failure(let error):
            FileHandle.standardError.write(Data("rill chaos: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// `--peer-tls` and `--encrypt` for the nodes this run starts: the files they need, made under `out`, and the
    /// flags that name them. Every node gets the same certificate and the same key store.
    private func securityArguments(out: String) throws -> [String] {
        guard endpoints == nil else { return [] }
        var arguments: [String] = []
        if peerTLS {
            let certificates = CertificateDirectory(path: out + "/peer-tls")
            let (ca, _) = try certificates.prepareCA(named: "Rill chaos CA")
            try certificates.prepare("node", hosts: ["127.0.0.1"], usage: .serverAndClient, signedBy: ca)
            arguments += [
                "--peer-ca", certificates.caCertificate, "--peer-cert", certificates.certificate("node"),
                "--peer-key", certificates.key("node"),
            ]
        }
        if encrypt {
            let keyStore = out + "/key-store.json"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            _ = try RecordKeys.open(path: keyStore, create: true)
            arguments += ["--key-store", keyStore]
        }
        return arguments
    }
}
