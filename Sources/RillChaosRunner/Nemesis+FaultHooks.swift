import RillChaos

/// The faults injected through the nodes' `/admin/faults` (they run with `--fault-injection`): partitions,
/// clock skew and power loss. Each is healed by `{"heal":true}` or by the restart.
extension Nemesis {
    // MARK: - Partition

    func partition(_ cut: FaultPlan.Cut, plan: FaultPlan) async -> Injected {
        let everyone = Array(cluster.members.indices)
        var commands: [(node: Int, json: String)] = []
        let index: Int
        var detail: String
        switch cut {
        case .isolate(let target):
            let (resolved, why) = await resolve(target)
            index = resolved
            let peers = await isolationPeers(of: resolved, target: target)
            // Each side cuts the other, so no message or request crosses either way whichever node sends it.
            commands.append((index, isolate(peers)))
            for peer in peers { commands.append((peer, isolate([index]))) }
            detail = "cut from \(names(peers)) both ways" + (why.map { ", \($0)" } ?? "")
        case .drop(let target, let toEveryone, let pick, let probability):
            let (resolved, why) = await resolve(target)
            index = resolved
            let others = everyone.filter { $0 != resolved }
            let peers = toEveryone ? others : [others[pick % others.count]]
            commands.append((index, drop(peers, probability: probability)))
            detail =
                "drops \(Int((probability * 100).rounded())) % of its Raft messages to \(names(peers)), one way"
                + (why.map { ", \($0)" } ?? "")
        }
        let name = cluster.members[index].name
        let start = recorder.now
        recorder.fault(.partition, .start, target: name, detail: detail)
        let failures = await inject(commands)
        try? await Task.sleep(for: plan.downFor)
        let healed = ContinuousClock.now
        let unhealed = await healEverywhere()
        let ready = await waitReady(everyone, within: .seconds(30))
        recorder.fault(
            .partition,
            .end,
            target: name,
            detail: unhealed.isEmpty ? "healed on every node" : "heal failed on \(names(unhealed))"
        )
        return Injected(
            kind: .partition,
            target: name,
            detail: detail + failures,
            start: start,
            down: plan.downFor,
            ready: ready ? healed.duration(to: .now) : nil,
            healedAt: healed
        )
    }

    /// Whom the target is cut from: every other node, or for a shard leader the nodes holding the shard's
    /// other replicas (every other node in a three-node cluster).
    private func isolationPeers(of index: Int, target: FaultPlan.Target) async -> [Int] {
        let others = cluster.members.indices.filter { $0 != index }
        guard case .leaderOf(let shardIndex) = target else { return others }
        let shard = targetShard(shardIndex)
        var holders: [Int] = []
        for other in others {
            guard let status = await admin.status(at: cluster.members[other].api) else { continue }
            if status.groups.contains(where: { $0.stream == stream && $0.shard == shard }) { holders.append(other) }
        }
        return holders.isEmpty ? others : holders
    }

    // MARK: - Clock

    func skewClock(_ target: FaultPlan.Target, _ skew: FaultPlan.ClockSkew, plan: FaultPlan) async -> Injected {
        let (index, why) = await resolve(target)
        let name = cluster.members[index].name
        let command: String
        var detail: String
        switch skew {
        case .jump(let millis):
            command = #"{"clock":{"jumpMillis":\#(millis)}}"#
            detail = "wall clock jumped \(millis > 0 ? "+" : "-")\(Seconds(milliseconds: Double(abs(millis))))"
        case .rate(let rate):
            command = #"{"clock":{"rate":\#(rate)}}"#
            detail = "wall clock runs \(rate)x"
        }
        detail += why.map { ", \($0)" } ?? ""
        let start = recorder.now
        recorder.fault(.clock, .start, target: name, detail: detail)
        let failures = await inject([(index, command)])
        try? await Task.sleep(for: plan.downFor)
        let healed = ContinuousClock.now
        let reset = await admin.heal(at: cluster.members[index].api, within: .seconds(10))
        let ready = await waitReady([index], within: .seconds(30))
        recorder.fault(.clock, .end, target: name, detail: reset ? "wall clock reset" : "reset failed")
        return Injected(
            kind: .clock,
            target: name,
            detail: detail + failures,
            start: start,
            down: plan.downFor,
            ready: ready ? healed.duration(to: .now) : nil,
            healedAt: healed
        )
    }

    // MARK: - Power loss

    /// Every node holds back what it writes until fsync for `exposure`, then all die at once: what was
    /// acknowledged must have been synced on a majority.
    func powerLoss(exposure: Duration, plan: FaultPlan) async throws(ChaosError) -> Injected {
        let everyone = Array(cluster.members.indices)
        let detail = "unsynced writes held back for \(Seconds(exposure)), then SIGKILL of every node"
        let start = recorder.now
        recorder.fault(.powerLoss, .start, target: "all", detail: detail)
        let failures = await inject(everyone.map { ($0, #"{"loseUnsyncedWrites":true}"#) })
        try? await Task.sleep(for: exposure)
        await processes.killAll()
        try? await Task.sleep(for: plan.downFor)
        let healed = ContinuousClock.now
        // A restarted process writes through again: the flag lived in the memory that was lost.
        try await processes.healAll()
        let ready = await waitReady(everyone, within: .seconds(30))
        recorder.fault(.powerLoss, .end, target: "all", detail: "every node restarted")
        return Injected(
            kind: .powerloss,
            target: "all",
            detail: detail + failures,
            start: start,
            down: plan.downFor,
            ready: ready ? healed.duration(to: .now) : nil,
            healedAt: healed
        )
    }

    // MARK: - Helpers

    /// Sends each command; what failed, as a suffix for the fault's detail (empty when all took).
    func inject(_ commands: [(node: Int, json: String)]) async -> String {
        var failures: [String] = []
        for (node, json) in commands {
            if let failure = await admin.injectFaults(json, at: cluster.members[node].api) {
                failures.append("\(cluster.members[node].name): \(failure)")
            }
        }
        guard !failures.isEmpty else { return "" }
        console.line("fault injection refused: " + failures.joined(separator: "; "))
        return " (refused by " + failures.joined(separator: "; ") + ")"
    }

    /// Heals every node; the ones that did not take it within 10 s.
    func healEverywhere() async -> [Int] {
        var unhealed: [Int] = []
        for index in cluster.members.indices
        where !(await admin.heal(at: cluster.members[index].api, within: .seconds(10))) {
            unhealed.append(index)
        }
        return unhealed
    }

    func names(_ indices: [Int]) -> String {
        indices.map { cluster.members[$0].name }.joined(separator: ",")
    }

    private func isolate(_ indices: [Int]) -> String {
        #"{"isolate":[\#(indices.map { "\(cluster.members[$0].id)" }.joined(separator: ","))]}"#
    }

    private func drop(_ indices: [Int], probability: Double) -> String {
        let drops = indices.map { #"{"peer":\#(cluster.members[$0].id),"probability":\#(probability)}"# }
        return #"{"drop":[\#(drops.joined(separator: ","))]}"#
    }
}
