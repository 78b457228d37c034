import Foundation
import NIOCore
import NIOPosix
import RillChaos

/// `rill chaos`: starts a local cluster (on loopback, or with `--netns` one network namespace per node) or
/// finds a running one (`--endpoint`), runs a workload against it while a nemesis injects faults, heals
/// everything, reads every shard back and judges the history with `RillChaos.Checker`.
///
/// Output under `--out`: `history.jsonl` (written as the run goes), `verdict.json`, `summary.txt`, and
/// `nodes/node-N` (data dirs) with `nodes/node-N.log`.
public struct ChaosRun: Sendable {
    public let configuration: ChaosConfiguration
    let console = Console()

    public init(configuration: ChaosConfiguration) {
        self.configuration = configuration
    }

    /// Runs to the end; throws only when the run cannot be judged (see `ChaosError`).
    public func run() async throws(ChaosError) -> ChaosOutcome {
        if let problem = configuration.problem { throw .harness(problem) }
        // Before anything is written, so a run that cannot start leaves nothing behind.
        if configuration.netns, let reason = await NetworkNamespaces.unavailable() { throw .harness(reason) }
        let out = configuration.outDirectory
        try prepare(out)
        let group = MultiThreadedEventLoopGroup.singleton
        let kinds = configuration.faults.map(\.rawValue).joined(separator: ",")
        let started = ContinuousClock.now
        if !configuration.endpoints.isEmpty {
            let endpoints = configuration.endpoints.compactMap { APIAddress(url: $0) }
            let cluster = try await RemoteCluster.discover(
                endpoints,
                admin: AdminClient(group: group),
                within: .seconds(30)
            )
            console.line(
                "rill chaos: seed \(configuration.seed), running cluster of \(cluster.members.count) nodes "
                    + "(\(cluster.members.map { "\($0.name) \($0.api)" }.joined(separator: ", "))"
                    + (cluster.routers.isEmpty
                        ? "" : ", routers \(cluster.routers.map(\.description).joined(separator: ", "))")
                    + "), \(configuration.shards) shards of stream \(configuration.streamName), faults \(kinds), "
                    + "\(Int(configuration.duration)) s; output in \(out.path)"
            )
            var outcome = try await runAgainst(cluster, local: nil, network: nil, group: group)
            outcome.runTime = started.duration(to: .now)
            try write(outcome, to: out)
            return outcome
        }
        let binary = try copyBinary(to: out)
        let network =
            configuration.netns ? try await NetworkNamespaces.create(nodes: configuration.nodes, console: console) : nil
        var placement = LocalCluster.Placement()
        if let network {
            placement.host = { network.layout.address($0) }
            placement.launcher = { [network.ip] + network.layout.inside($0, []) }
        }
        let cluster: LocalCluster
        do {
            cluster = try LocalCluster(
                directory: out.appendingPathComponent("nodes"),
                binary: binary,
                count: configuration.nodes,
                extraArguments: configuration.nodeArguments
                    + (configuration.faults.contains(where: \.needsFaultInjection) ? ["--fault-injection"] : []),
                placement: placement
            )
        } catch {
            await network?.teardown()
            throw error
        }
        console.line(
            "rill chaos: seed \(configuration.seed), \(configuration.nodes) nodes"
                + (network == nil ? "" : " in network namespaces") + ", \(configuration.shards) shards, "
                + "\(configuration.writers) writers"
                + (configuration.retryingWriters.map { " (retrying, \($0.rawValue))" } ?? "")
                + ", \(configuration.readers) readers, faults \(kinds), "
                + "\(Int(configuration.duration)) s; output in \(out.path)"
        )
        do {
            var outcome = try await runAgainst(cluster, local: cluster, network: network, group: group)
            await cluster.stopAll()
            await network?.teardown()
            outcome.runTime = started.duration(to: .now)
            try write(outcome, to: out)
            return outcome
        } catch {
            // Also on Ctrl-C: no node and no namespace outlives the run.
            await cluster.stopAll()
            await network?.teardown()
            throw Task.isCancelled ? .interrupted : error
        }
    }

    private func prepare(_ out: URL) throws(ChaosError) {
        let files = FileManager.default
        for leftover in ["history.jsonl", "nodes", "bin"]
        where files.fileExists(atPath: out.appendingPathComponent(leftover).path) {
            throw .harness("\(out.path) already holds a run (\(leftover)); choose another --out or delete it")
        }
        do {
            try files.createDirectory(at: out.appendingPathComponent("nodes"), withIntermediateDirectories: true)
        } catch {
            throw .harness("cannot create \(out.path): \(error)")
        }
    }

    /// Nodes run from a copy of the binary in `OUT/bin`: a rebuild during the run must not change the code a
    /// restarted node runs (or catch the file half-written), and the copy stays with the run's output.
    private func copyBinary(to out: URL) throws(ChaosError) -> String {
        let copy = out.appendingPathComponent("bin/rill")
        do {
            try FileManager.default.createDirectory(
                at: copy.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try FileManager.default.copyItem(atPath: configuration.binary, toPath: copy.path)
        } catch {
            throw .harness("cannot copy \(configuration.binary) to \(copy.path): \(error)")
        }
        return copy.path
    }

    // MARK: - Phases

    private func runAgainst(
        _ cluster: any ChaosCluster,
        local: LocalCluster?,
        network: NetworkNamespaces?,
        group: any EventLoopGroup
    ) async throws(ChaosError) -> ChaosOutcome {
        let admin = AdminClient(group: group)
        // The history starts before the nodes do: the catalog churn works from their launch, before /ready.
        let recorder: Recorder
        do {
            recorder = try Recorder(fileAt: configuration.outDirectory.appendingPathComponent("history.jsonl"))
        } catch {
            throw .harness("cannot create history.jsonl: \(error)")
        }
        console.line(
            configuration.churn
                ? "nodes starting; catalog churn starts with them (creating, resharding, deleting small streams)"
                : "nodes starting"
        )

        let watchStop = StopFlag()
        let watch = local.map {
            CrashWatch(cluster: $0, admin: admin, recorder: recorder, console: console, logDirectory: logDirectory)
        }
        let (result, crashes) = await withTaskGroup(of: Finished.self) { tasks in
            // Only processes this run started can be watched for crashes.
            if let watch { tasks.addTask { .watch(await watch.run(stop: watchStop)) } }
            tasks.addTask {
                await recorder.run()
                return .recorder
            }
            tasks.addTask {
                let result: Result<ChaosOutcome, ChaosError>
                do throws(ChaosError) {
                    result = .success(
                        try await formWorkAndCheck(
                            cluster: cluster,
                            local: local,
                            network: network,
                            admin: admin,
                            recorder: recorder,
                            group: group
                        )
                    )
                } catch {
                    result = .failure(error)
                }
                watchStop.set()
                return .main(result)
            }
            var result: Result<ChaosOutcome, ChaosError> = .failure(.harness("the run ended without a result"))
            var crashes = CrashWatch.Report()
            for await finished in tasks {
                switch finished {
                case .main(let outcome): result = outcome
                case .watch(let report): crashes = report
                case .recorder: break
                }
            }
            return (result, crashes)
        }
        if let error = crashes.harnessError { throw error }
        var outcome = try result.get()
        outcome.crashes = crashes.crashes
        return outcome
    }

    private enum Finished: Sendable {
        case main(Result<ChaosOutcome, ChaosError>)
        case watch(CrashWatch.Report)
        case recorder
    }

    private var logDirectory: String { logDirectoryPath }
}
