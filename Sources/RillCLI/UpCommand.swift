import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RillBench
import RillNode
import RillTLS
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `rill up`: the one-command local cluster: a `rill router` on `--port` in front of three `rill node`
/// processes in zones az-a, az-b and az-c on the next three ports, one data folder each under `--data-dir`.
/// Every node routes too, so any API port serves every call.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run a local three-node Rill cluster on loopback and print its endpoints."
    )

    @Option(name: .customLong("data-dir"), help: "Folder holding every node's data directory (node-1, node-2, node-3).")
    var dataDir: String = "./rill-data"

    @Option(help: "The router's API port; the nodes use the next ones (4568, 4569, 4570). With --nodes 1, the node's.")
    var port: Int = 4567

    @Option(
        name: .customLong("peer-port"),
        help: "The router's peer (gossip) port; the nodes use the next ones (default: --port + 100)."
    )
    var peerPort: Int?

    @Option(help: "How many nodes to run (1 runs a single node with no peers).")
    var nodes: Int = 3

    @Flag(
        name: .customLong("fault-injection"),
        help: "Start every node and the router with --fault-injection, for rill chaos --endpoint. Never in production."
    )
    var faultInjection = false

    @Flag(
        name: .customLong("no-throughput-limits"),
        help:
            "Start the nodes without Kinesis's per-shard throughput limits, which rill up otherwise enforces as AWS does (for benchmarks)."
    )
    var noThroughputLimits = false

    @Flag(
        help:
            "Serve HTTPS (HTTP/1.1 and HTTP/2) on every port, with a local CA and server certificate made under DATA_DIR/tls (kept across restarts); clients trust DATA_DIR/tls/ca.pem."
    )
    var tls = false

    @Flag(
        name: .customLong("no-peer-tls"),
        help:
            "Let the nodes and the router talk to one another in plaintext instead of mutual TLS under the cluster CA in DATA_DIR/peer-tls (to watch peer traffic, or to measure what TLS costs)."
    )
    var noPeerTLS = false

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard (1...9).contains(nodes) else { throw ValidationError("--nodes must be between 1 and 9") }
        if noThroughputLimits && common.throughputLimits {
            throw ValidationError("--throughput-limits and --no-throughput-limits contradict each other")
        }
    }

    func run() async throws {
        let logger = common.bootstrapLogging(label: "rill.up", metadata: [:])
        let zones = ["az-a", "az-b", "az-c"]
        let peerBase = peerPort ?? port + 100
        // One node serves alone on --port; a cluster gets the router there and the nodes after it.
        let router = nodes > 1
        let firstNode = router ? 1 : 0
        let peers = (0..<nodes).map { "127.0.0.1:\(peerBase + firstNode + $0)" }
        let apis = (0..<nodes).map { port + firstNode + $0 }
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM])
        // SIGHUP reloads the credentials file: passed on to every process started here.
        let reloads = SignalWatcher(signals: [SIGHUP])
        let certificates = tls ? LocalTLSDirectory(path: dataDir + "/tls") : nil
        var serverTLS: [String] = []
        var probeTLS: NIOSSLContext?
        if let certificates {
            // Every process here listens on 127.0.0.1; the names cover clients that say localhost or ::1.
            let outcome = try certificates.prepare(hosts: ["127.0.0.1", "localhost", "::1"])
            logger.info(
                "TLS certificates ready",
                metadata: ["directory": "\(certificates.path)", "outcome": "\(outcome)"]
            )
            serverTLS = ["--tls-cert", certificates.serverCertificate, "--tls-key", certificates.serverKey]
            probeTLS = try APITLS.clientContext(trusting: certificates.caCertificate)
        }
        let scheme = tls ? "https" : "http"
        // Peers and the router prove this secret to one another (docs/security.md); made once, kept.
        var peerSecret: [String] = []
        // Mutual TLS between peers, under a CA of the cluster's own (docs/security.md): made once, kept.
        var peerTLS: (String) -> [String] = { _ in [] }
        if router {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            let secretFile = dataDir + "/cluster-secret"
            try ClusterSecret.prepare(at: secretFile)
            peerSecret = ["--cluster-secret-file", secretFile]
            if !noPeerTLS {
                let certificates = CertificateDirectory(path: dataDir + "/peer-tls")
                let (ca, _) = try certificates.prepareCA(named: "Rill cluster CA")
                let names = (1...nodes).map { "node-\($0)" } + ["router"]
                for name in names {
                    try certificates.prepare(
                        name,
                        hosts: ["127.0.0.1", "localhost"],
                        usage: .serverAndClient,
                        signedBy: ca
                    )
                }
                peerTLS = { name in
                    [
                        "--peer-ca", certificates.caCertificate, "--peer-cert", certificates.certificate(name),
                        "--peer-key",
                        certificates.key(name),
                    ]
                }
            }
        }
        // One key store for every node (encryption at rest, docs/security.md): made once, kept.
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let keyStore = dataDir + "/key-store.json"
        _ = try RecordKeys.open(path: keyStore, create: true)
        var children: [(name: String, pid: pid_t)] = []
        for index in 0..<nodes {
            var arguments = [
                "node", "--id", "\(index + 1)", "--az", zones[index % zones.count], "--data-dir",
                "\(dataDir)/node-\(index + 1)",
                "--api", "127.0.0.1:\(apis[index])",
            ]
            if router {
                arguments += [
                    "--peer", peers[index], "--join", peers.joined(separator: ","), "--bootstrap-expect", "\(nodes)",
                ]
            }
            arguments += common.forwardedArguments + serverTLS + peerSecret + peerTLS("node-\(index + 1)")
            arguments += ["--key-store", keyStore]
            // As on AWS, unless switched off; `--throughput-limits` is already among the forwarded flags.
            if !noThroughputLimits && !common.throughputLimits { arguments.append("--throughput-limits") }
            if faultInjection { arguments.append("--fault-injection") }
            children.append(("node \(index + 1)", try Self.spawn(arguments)))
        }
        if router {
            var arguments = [
                "router", "--api", "127.0.0.1:\(port)", "--peer", "127.0.0.1:\(peerBase)", "--join",
                peers.joined(separator: ","),
                "--log-level", common.logLevel, "--log-format", common.logFormat.rawValue,
                "--event-loop-threads", "\(common.eventLoopThreads)",
            ]
            if let file = common.credentialsFile { arguments += ["--credentials-file", file] }
            arguments += peerSecret + peerTLS("router")
            if let certificates { arguments += serverTLS + ["--tls-ca", certificates.caCertificate] }
            if faultInjection { arguments.append("--fault-injection") }
            children.append(("router", try Self.spawn(arguments)))
        }
        let probes = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let ready = Task {
            for api in apis { await HTTPProbe.waitReady(port: api, group: probes, tls: probeTLS) }
            if router { await HTTPProbe.waitReady(port: port, group: probes, tls: probeTLS) }
            let zoneList = (0..<nodes).map { zones[$0 % 3] }.joined(separator: ", ")
            print("rill is up: \(nodes) node\(nodes == 1 ? "" : "s") (\(zoneList))\(router ? " and a router" : "")")
            print(
                "  Kinesis endpoint  \(scheme)://127.0.0.1:\(port)\(router ? "   (the router; every node also serves every call)" : "")"
            )
            if router {
                print("  nodes             \(apis.map { "\(scheme)://127.0.0.1:\($0)" }.joined(separator: "  "))")
            }
            print("  console           \(scheme)://127.0.0.1:\(port)/console   (members, shards, traffic, events)")
            print(
                "  metrics           \(scheme)://127.0.0.1:PORT/metrics on each of \(([port] + (router ? apis : [])).map(String.init).joined(separator: ", "))"
            )
            if let certificates {
                print(
                    "  CA for clients    \(certificates.caCertificate)   (aws --ca-bundle, boto3 verify=, curl --cacert)"
                )
                print(
                    "  cluster status    rill status --endpoint https://127.0.0.1:\(port) --ca-bundle \(certificates.caCertificate)"
                )
            } else {
                print("  cluster status    rill status --endpoint http://127.0.0.1:\(port)")
            }
            print("  data              \(dataDir)/node-1 … node-\(nodes)")
            print("press Ctrl-C to stop")
            // Stdout is block-buffered when it is a pipe or a file; whoever waits for the banner should see it.
            fflush(nil)
        }
        // A node that dies stays dead (fault-injection runs kill nodes on purpose); the others keep serving.
        let watched = children
        // Exits after Ctrl-C are the plan; any other exit is news.
        let stopping = StopFlag()
        let watcher = Task.detached { [logger] in
            await withTaskGroup(of: Void.self) { group in
                for (name, child) in watched {
                    group.addTask {
                        // Polled: a blocking waitpid would hold one of the few cooperative threads.
                        var status: Int32 = 0
                        while waitpid(child, &status, WNOHANG) == 0 {
                            try? await Task.sleep(for: .milliseconds(250))
                        }
                        let level: Logger.Level = stopping.isSet ? .info : .warning
                        logger.log(level: level, "\(name) exited", metadata: ["status": "\(status)"])
                    }
                }
            }
        }
        let reloading = Task { [logger] in
            while await reloads.next() == SIGHUP {
                for child in watched { kill(child.pid, SIGHUP) }
                logger.info("SIGHUP passed on to every node and the router")
            }
        }
        let received = await signals.next()
        logger.info("stopping the cluster", metadata: ["signal": "\(received)"])
        reloading.cancel()
        await reloading.value
        ready.cancel()
        await ready.value
        try? await probes.shutdownGracefully()
        stopping.set()
        for child in children { kill(child.pid, SIGTERM) }
        await watcher.value
    }

    /// Starts this same executable with `arguments`, sharing stdout and stderr.
    static func spawn(_ arguments: [String]) throws -> pid_t {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, nil, nil, argv, environ)
        guard result == 0 else { throw ValidationError("could not start \(executable): error \(result)") }
        return pid
    }
}

extension CommonOptions {
    /// The flags a child `rill node` inherits from `rill up`.
    var forwardedArguments: [String] {
        var arguments = [
            "--account-id", accountID, "--region", region, "--log-level", logLevel, "--log-format", logFormat.rawValue,
            "--event-loop-threads", "\(eventLoopThreads)", "--storage-threads", "\(storageThreads)",
        ]
        if let credentialsFile { arguments += ["--credentials-file", credentialsFile] }
        if throughputLimits { arguments.append("--throughput-limits") }
        return arguments
    }
}

/// Polls a local `/ready` until it answers 200.
enum HTTPProbe {
    static func waitReady(port: Int, group: any EventLoopGroup, tls: NIOSSLContext? = nil) async {
        let endpoint = "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)"
        while !Task.isCancelled {
            if let (status, _) = try? await AdminFetch.get(endpoint, path: "/ready", on: group, tls: tls), status == 200
            {
                return
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// Set once `rill up` begins stopping its children.
final class StopFlag: Sendable {
    private let state = Mutex(false)
    var isSet: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}
