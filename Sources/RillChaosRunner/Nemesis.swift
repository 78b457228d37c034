import NIOCore
import RillChaos

extension FaultKind {
    /// A node killed, its data dir deleted, then restarted empty.
    static let wipe = FaultKind(rawValue: "wipe")
    /// Every node killed at once, then all restarted.
    static let allKill = FaultKind(rawValue: "allkill")
    /// A node process that exited without the nemesis asking (the harness restarts it): always a bug.
    static let crash = FaultKind(rawValue: "crash")
    /// Every node killed at once after holding back its unsynced writes: a power cut.
    static let powerLoss = FaultKind(rawValue: "powerloss")
}

/// Injects the scheduled faults one at a time, healing each and waiting for the cluster to be whole again
/// before the next, and records every start and end in the history.
struct Nemesis: Sendable {
    let cluster: any ChaosCluster
    /// The processes, when this run started them; the process kinds need them (`rill chaos` refuses those
    /// kinds against a cluster it found).
    let local: LocalCluster?
    /// The nodes' network namespaces, with `--netns`: `netpartition` and netem delays need them.
    let network: NetworkNamespaces?
    let admin: AdminClient
    let recorder: Recorder
    let stream: String
    /// The stream's shards as last listed; the reshard nemesis lists them again after each reshard.
    let shards: StreamShards
    let console: Console
    /// For the Kinesis calls of the reshard nemesis.
    let group: any EventLoopGroup

    /// What one injected fault did and how long the cluster took to recover.
    struct Injected: Sendable {
        var kind: NemesisKind
        var target: String
        var detail: String
        /// Milliseconds since the run started.
        var start: Double
        var down: Duration
        /// From the heal (restart or SIGCONT) until every affected node answered /ready.
        var ready: Duration?
        /// From the heal until the cluster was whole (see `ClusterHealth.problem`).
        var healthy: Duration?
        /// When the nemesis restarted or resumed what it broke.
        var healedAt: ContinuousClock.Instant
    }

    struct Report: Sendable {
        var injected: [Injected] = []
        /// Set when the cluster did not become whole after a fault; the nemesis then stopped.
        var unhealthy: String?
    }

    /// How long the cluster may take to become whole after a fault before the nemesis gives up.
    var recoveryDeadline: Duration = .seconds(60)

    func run(schedule: FaultSchedule, until deadline: ContinuousClock.Instant) async throws(ChaosError) -> Report {
        var schedule = schedule
        var report = Report()
        while !Task.isCancelled {
            let plan = schedule.next()
            guard ContinuousClock.now + plan.quietBefore < deadline else { break }
            try? await Task.sleep(for: plan.quietBefore)
            var injected = try await inject(plan)
            if let problem = await waitHealthy(within: recoveryDeadline) {
                if Task.isCancelled { break }
                report.unhealthy =
                    "not whole \(recoveryDeadline) after \(injected.kind) \(injected.target) "
                    + "(t=\(Int(injected.start)) ms): \(problem)"
                report.injected.append(injected)
                console.line(report.unhealthy ?? "")
                break
            }
            injected.healthy = injected.healedAt.duration(to: .now)
            report.injected.append(injected)
            console.line(Self.describe(injected))
        }
        return report
    }

    /// `run` with its error as a value, for a task group.
    func result(schedule: FaultSchedule, until deadline: ContinuousClock.Instant) async -> Result<Report, ChaosError> {
        do {
            return .success(try await run(schedule: schedule, until: deadline))
        } catch {
            return .failure(error)
        }
    }

    // MARK: - One fault

    private func inject(_ plan: FaultPlan) async throws(ChaosError) -> Injected {
        if plan.kind.needsProcesses, local == nil {
            throw .harness("\(plan.kind) needs the node processes, and this run did not start them")
        }
        if plan.kind.needsNamespaces, network == nil {
            throw .harness("\(plan.kind) needs the nodes in network namespaces (--netns)")
        }
        switch plan.action {
        case .kill(let target):
            let (index, why) = await resolve(target)
            return try await downAndUp(.kill, index: index, why: why, plan: plan, wipe: false)
        case .wipe(let target):
            let (index, why) = await resolve(target)
            return try await downAndUp(.wipe, index: index, why: why, plan: plan, wipe: true)
        case .pause(let target):
            let (index, why) = await resolve(target)
            let name = cluster.members[index].name
            let detail = "SIGSTOP" + (why.map { ", \($0)" } ?? "")
            let start = recorder.now
            recorder.fault(.pause, .start, target: name, detail: detail)
            await processes.pause(index)
            try? await Task.sleep(for: plan.downFor)
            await processes.resume(index)
            let healed = ContinuousClock.now
            let ready = await waitReady([index], within: .seconds(30))
            recorder.fault(.pause, .end, target: name, detail: "SIGCONT")
            return Injected(
                kind: .pause,
                target: name,
                detail: detail,
                start: start,
                down: plan.downFor,
                ready: ready ? healed.duration(to: .now) : nil,
                healedAt: healed
            )
        case .allKill:
            let start = recorder.now
            recorder.fault(.allKill, .start, target: "all", detail: "SIGKILL of every node")
            await processes.killAll()
            try? await Task.sleep(for: plan.downFor)
            let healed = ContinuousClock.now
            try await processes.healAll()
            let ready = await waitReady(Array(cluster.members.indices), within: .seconds(30))
            recorder.fault(.allKill, .end, target: "all", detail: "every node restarted")
            return Injected(
                kind: .allkill,
                target: "all",
                detail: "SIGKILL of every node",
                start: start,
                down: plan.downFor,
                ready: ready ? healed.duration(to: .now) : nil,
                healedAt: healed
            )
        case .partition(let cut):
            return await partition(cut, plan: plan)
        case .clock(let target, let skew):
            return await skewClock(target, skew, plan: plan)
        case .disk(let target, let damage, let salt):
            return try await damageDisk(target, damage, salt: salt, plan: plan)
        case .powerLoss(let exposure):
            return try await powerLoss(exposure: exposure, plan: plan)
        case .delay(let target, let delay):
            return await delayLinks(target, delay, plan: plan)
        case .netPartition(let target, let cut):
            return try await netPartition(target, cut, plan: plan)
        case .reshard(let move):
            return await reshard(move)
        case .replace(let target, let live):
            return try await replace(target, live: live, plan: plan)
        }
    }

    /// kill -9 (and for a wipe, deleting the data dir), a pause of `plan.downFor`, then a restart.
    private func downAndUp(
        _ kind: NemesisKind,
        index: Int,
        why: String?,
        plan: FaultPlan,
        wipe: Bool
    )
        async throws(ChaosError) -> Injected
    {
        let name = cluster.members[index].name
        let faultKind: FaultKind = wipe ? .wipe : .kill
        let detail = (wipe ? "SIGKILL, data dir deleted" : "SIGKILL") + (why.map { ", \($0)" } ?? "")
        let start = recorder.now
        recorder.fault(faultKind, .start, target: name, detail: detail)
        await processes.kill(index)
        if wipe { try await processes.wipe(index) }
        try? await Task.sleep(for: plan.downFor)
        let healed = ContinuousClock.now
        try await processes.start(index)
        let ready = await waitReady([index], within: .seconds(30))
        recorder.fault(faultKind, .end, target: name, detail: ready ? "restarted" : "restarted, not ready after 30 s")
        return Injected(
            kind: kind,
            target: name,
            detail: detail,
            start: start,
            down: plan.downFor,
            ready: ready ? healed.duration(to: .now) : nil,
            healedAt: healed
        )
    }

    /// The node a target names: a shard's leader as a live node reports it, or a node by index.
    func resolve(_ target: FaultPlan.Target) async -> (index: Int, why: String?) {
        switch target {
        case .node(let index):
            return (index, nil)
        case .leaderOf(let shardIndex):
            let shard = targetShard(shardIndex)
            for address in await cluster.reachable() {
                guard let status = await admin.status(at: address),
                    let leader = status.leader(stream: stream, shard: shard), let index = cluster.index(of: leader)
                else { continue }
                return (index, "leader of \(shard)")
            }
            return (shardIndex % cluster.members.count, "no leader of \(shard) known")
        }
    }

    /// The shard a `leaderOf` target names now: an open one (a closed parent takes no writes, so faulting its
    /// leader tests little), by index modulo their count.
    func targetShard(_ index: Int) -> String {
        let listing = shards.current
        let candidates = listing.open.isEmpty ? listing.all : listing.open.map(\.id)
        return candidates[index % candidates.count]
    }

    // MARK: - Waiting for recovery

    /// Polls /ready of the nodes at `indices` until all answer 200; false if `timeout` passes first.
    func waitReady(_ indices: [Int], within timeout: Duration) async -> Bool {
        await admin.waitReady(indices.map { cluster.members[$0].api }, within: timeout)
    }

    /// Polls every node's status until the cluster is whole; returns the last problem if `timeout` passes.
    func waitHealthy(within timeout: Duration) async -> String? {
        await ClusterHealth.wait(
            admin: admin,
            cluster: cluster,
            stream: stream,
            shards: shards.current.all,
            within: timeout
        )
    }

    /// The processes; only the process kinds call it, after `inject` checked there are some.
    var processes: LocalCluster {
        guard let local else { preconditionFailure("a process fault against a cluster this run did not start") }
        return local
    }

    static func describe(_ fault: Injected) -> String {
        let ready = fault.ready.map { "ready \(Seconds($0)) after heal" } ?? "not ready"
        let healthy = fault.healthy.map { ", whole after \(Seconds($0))" } ?? ""
        return "[\(Seconds(milliseconds: fault.start))] \(fault.kind) \(fault.target) (\(fault.detail)): "
            + "down \(Seconds(fault.down)), \(ready)\(healthy)"
    }
}
