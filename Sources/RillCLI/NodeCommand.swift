import ArgumentParser
import Foundation
import Logging
import Metrics
import NIOPosix
import RillAPI
import RillCluster
import RillHTTP
import RillKinesis
import RillModel
import RillNode

/// `rill node`: one node serving the Kinesis API from its own data directory.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run one Rill node."
    )

    @Option(help: "This node's numeric id, stable across restarts.")
    var id: UInt64 = 1

    @Option(help: "This node's availability zone label.")
    var az: String = "az-a"

    @Option(name: .customLong("data-dir"), help: "Directory holding node.json, the metadata log and shard logs.")
    var dataDir: String = "./rill-data/node-1"

    @Option(help: "HOST:PORT the Kinesis API listens on.")
    var api: String = "127.0.0.1:4567"

    @Option(
        help:
            "HOST:PORT serving /health, /ready, /metrics, /admin/* and the web console (/console); /metrics, /admin/checksums, /admin/faults and /console then leave the API address."
    )
    var admin: String?

    @Option(help: "HOST:PORT the peer transport (Raft, internal RPC) listens on and peers dial; needed with --join.")
    var peer: String?

    @Option(
        help:
            "Peer addresses (HOST:PORT, comma-separated) to find the cluster through; without it the node is a one-node cluster."
    )
    var join: String?

    @Option(
        name: .customLong("bootstrap-expect"),
        help: "How many nodes, all with empty data directories, form a new cluster together."
    )
    var bootstrapExpect: Int = 3

    @Flag(
        name: .customLong("fault-injection"),
        help:
            "Allow the chaos fault hooks of /admin/faults (partitions, message drops, wall-clock skew, lost unsynced writes); never in production."
    )
    var faultInjection = false

    @Flag(
        name: .customLong("lose-unsynced-writes"),
        help: "With --fault-injection: hold written bytes in memory until their fsync, so kill -9 acts as a power cut."
    )
    var loseUnsyncedWrites = false

    @Option(
        name: .customLong("segment-bytes"),
        help: "Size at which a shard log rolls to a new segment file; retention deletes whole segments."
    )
    var segmentBytes: Int = 64 << 20

    @Option(
        name: .customLong("retention-interval"),
        help: "Seconds between a shard leader's looks for segments past their stream's retention."
    )
    var retentionInterval: Int = 60

    @Option(
        name: .customLong("on-demand-split-after"),
        help: "Seconds an on-demand shard must stay above 75 % of its write capacity before it splits."
    )
    var onDemandSplitAfter: Double = 15

    @Option(
        name: .customLong("on-demand-merge-after"),
        help:
            "Seconds two neighbouring on-demand shards must stay under 25 % of one shard's capacity before they merge."
    )
    var onDemandMergeAfter: Double = 900

    @Option(
        name: .customLong("on-demand-cooldown"),
        help: "Seconds after a scaling decision before the same stream is scaled again."
    )
    var onDemandCooldown: Double = 15

    @OptionGroup var common: CommonOptions

    @OptionGroup var gossip: GossipOptions

    @OptionGroup var tls: TLSOptions

    @OptionGroup var clusterSecret: ClusterSecretOptions

    @OptionGroup var peerTLS: PeerTLSOptions

    @Option(
        name: .customLong("key-store"),
        help:
            "Key store file (JSON, mode 0600) holding the master keys that wrap each encrypted stream's data key; every node of a cluster must be given the same one (`rill up` makes it, `rill keys` edits it; reloaded on SIGHUP). Default: key-store.json in --data-dir, created on first start."
    )
    var keyStore: String?

    func validate() throws {
        guard segmentBytes >= 4096 else { throw ValidationError("--segment-bytes must be at least 4096") }
        guard retentionInterval >= 1 else { throw ValidationError("--retention-interval must be at least 1 second") }
        for (flag, seconds) in [
            ("--on-demand-split-after", onDemandSplitAfter), ("--on-demand-merge-after", onDemandMergeAfter),
            ("--on-demand-cooldown", onDemandCooldown),
        ] where !(seconds >= 0 && seconds <= 86_400) {
            throw ValidationError("\(flag) must be between 0 and 86400 seconds")
        }
        if join != nil, peer == nil { throw ValidationError("--join needs --peer HOST:PORT") }
        if clusterSecret.clusterSecretFile != nil, join == nil {
            throw ValidationError("--cluster-secret-file needs --join: a one-node cluster has no peer port")
        }
        if peerTLS.isSet, join == nil {
            throw ValidationError("--peer-ca needs --join: a one-node cluster has no peer port")
        }
        guard bootstrapExpect >= 1 else { throw ValidationError("--bootstrap-expect must be at least 1") }
        if loseUnsyncedWrites, !faultInjection {
            throw ValidationError("--lose-unsynced-writes needs --fault-injection")
        }
    }

    func run() async throws {
        let logger = common.bootstrapLogging(
            label: "rill.node",
            metadata: ["rill.node": "\(id)", "rill.az": "\(az)", "rill.role": "node"]
        )
        let listeners = try HTTPListeners(api: api, admin: admin, tls: try tls.serverContext())
        var configuration = NodeConfiguration(
            id: NodeID(id),
            zone: Zone(az),
            dataDirectory: dataDir,
            accountID: common.accountID,
            defaultRegion: common.region,
            storageThreads: common.storageThreads,
            segmentBytes: segmentBytes,
            throughputLimits: common.throughputLimits,
            credentials: try common.loadCredentials()
        )
        configuration.keyStorePath = keyStore
        configuration.retentionInterval = .seconds(retentionInterval)
        configuration.onDemandPolicy.splitAfterMillis = Int64(onDemandSplitAfter * 1_000)
        configuration.onDemandPolicy.mergeAfterMillis = Int64(onDemandMergeAfter * 1_000)
        configuration.onDemandPolicy.cooldownMillis = Int64(onDemandCooldown * 1_000)
        configuration.faultInjection = faultInjection
        configuration.loseUnsyncedWrites = loseUnsyncedWrites
        if let join, let peer {
            let (peerHost, peerPort) = try Endpoint.parse(peer, flag: "--peer")
            let addresses = join.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            for address in addresses { _ = try Endpoint.parse(address, flag: "--join") }
            var settings = ClusterSettings(
                peerHost: peerHost,
                peerPort: peerPort,
                advertisedPeer: peer,
                advertisedAPI: api,
                join: addresses,
                bootstrapExpect: bootstrapExpect
            )
            settings.faultInjection = faultInjection
            settings.gossip = gossip.settings
            settings.clusterSecret = try clusterSecret.load()
            settings.peerTLS = try peerTLS.contexts()
            if settings.peerTLS == nil {
                logger.notice(
                    "no --peer-ca: peer connections (Raft, gossip, forwarded calls) are plaintext; see docs/security.md"
                )
            }
            if settings.clusterSecret == nil, configuration.credentials != nil {
                logger.warning(
                    "no --cluster-secret-file: whoever reaches the peer port can forward calls as any caller and append to shards; see docs/security.md"
                )
            }
            configuration.cluster = settings
        }
        try await NodeRunner(
            configuration: configuration,
            listeners: listeners,
            eventLoopThreads: common.eventLoopThreads,
            logger: logger,
            metricsEndpoint: common.bootstrapMetrics(),
            credentialsReload: CredentialsReload(
                file: common.credentialsFile,
                keys: configuration.credentials,
                logger: logger
            )
        ).runUntilSignalled()
    }
}

/// Flags every serving command shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("account-id"), help: "The AWS account id that appears in ARNs and messages.")
    var accountID: String = "000000000000"

    @Option(help: "The region served when a request carries no SigV4 scope; it appears in ARNs.")
    var region: String = "us-east-1"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("log-format"), help: "text (human-readable lines) or json (one JSON object per line).")
    var logFormat: LogFormat = .text

    @Option(name: .customLong("event-loop-threads"), help: "Event loop threads for network I/O.")
    var eventLoopThreads: Int = 1

    @Option(name: .customLong("storage-threads"), help: "Threads for blocking file I/O (appends, reads, fsync rounds).")
    var storageThreads: Int = 4

    @Option(
        name: .customLong("credentials-file"),
        help:
            "File of ACCESS_KEY_ID:SECRET lines (each key may do everything) or JSON users with IAM policies (docs/security.md); when given (or RILL_CREDENTIALS is set), every request must be SigV4-signed by one of them and is authorized by their policies. Reloaded on SIGHUP."
    )
    var credentialsFile: String?

    @Flag(
        name: .customLong("throughput-limits"),
        help:
            "Enforce Kinesis's per-shard limits on the shards' leaders (1 MiB/s and 1,000 records/s written, 5 GetRecords/s and 2 MiB/s read, 2 MiB/s per enhanced fan-out consumer)."
    )
    var throughputLimits = false

    /// The credentials requests must be signed with: from `--credentials-file`, else `RILL_CREDENTIALS`
    /// (`AKID:SECRET[,AKID:SECRET...]`), else none (signatures are then not checked).
    func loadCredentials() throws -> KeyRing? {
        try Credentials.load(file: credentialsFile, defaultAccount: accountID)
    }

    func validate() throws {
        guard accountID.count == 12, accountID.allSatisfy(\.isNumber) else {
            throw ValidationError("--account-id must be 12 digits")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard eventLoopThreads >= 1, storageThreads >= 1 else {
            throw ValidationError("thread counts must be at least 1")
        }
    }

    func bootstrapLogging(label: String, metadata: Logger.Metadata) -> Logger {
        LogOptions.bootstrap(level: logLevel, format: logFormat, label: label, metadata: metadata)
    }

    /// Makes the registry `/metrics` serves and points the process-wide `MetricsSystem` at it, so
    /// libraries that use the global factory land in the same exposition. Call once per process.
    func bootstrapMetrics() -> MetricsEndpoint {
        let endpoint = MetricsEndpoint()
        MetricsSystem.bootstrap(endpoint.factory)
        return endpoint
    }
}

/// The process-wide log handler, once per process.
enum LogOptions {
    static func bootstrap(level: String, format: LogFormat, label: String, metadata: Logger.Metadata) -> Logger {
        let level = Logger.Level(rawValue: level) ?? .info
        // The provider adds `request.id` to lines logged while a client request is served.
        switch format {
        case .text:
            LoggingSystem.bootstrap(
                { label, provider in
                    var handler = StreamLogHandler.standardError(label: label, metadataProvider: provider)
                    handler.logLevel = level
                    return handler
                },
                metadataProvider: RequestLogContext.metadataProvider
            )
        case .json:
            LoggingSystem.bootstrap(
                { label, provider in
                    var handler = JSONLogHandler(label: label)
                    handler.metadataProvider = provider
                    handler.logLevel = level
                    return handler
                },
                metadataProvider: RequestLogContext.metadataProvider
            )
        }
        var logger = Logger(label: label)
        for (key, value) in metadata { logger[metadataKey: key] = value }
        return logger
    }
}

/// `--log-format`.
enum LogFormat: String, CaseIterable, ExpressibleByArgument {
    case text
    case json
}

/// `HOST:PORT` flags.
enum Endpoint {
    static func parse(_ text: String, flag: String) throws -> (String, Int) {
        guard let parsed = HostPort.parse(text) else { throw ValidationError("\(flag) must be HOST:PORT, got \(text)") }
        return parsed
    }
}
