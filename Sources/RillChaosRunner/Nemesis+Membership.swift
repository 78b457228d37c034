import RillChaos

extension FaultKind {
    /// A node replaced by a new member of its zone (`NemesisKind.replace`).
    static let replace = FaultKind(rawValue: "replace")
}

extension Nemesis {
    /// Replaces the target with a new node in its zone, as an operator replaces failed or retired hardware
    /// (docs/operations.md): the newcomer, with a new id, joins the running cluster; the old node is removed
    /// through `/admin/members/remove`, killed with -9 first unless `live`; the cluster then moves every
    /// replica of the old node to the newcomer, one single-server Raft change at a time, while the workload
    /// writes. A live node keeps serving until its replicas have moved, then gets SIGTERM.
    ///
    /// The fault ends when the moves are done (see `ClusterHealth.replacementProblem`); the nemesis's usual
    /// health wait then checks the stream under test is whole on the new set of members.
    func replace(_ target: FaultPlan.Target, live: Bool, plan: FaultPlan) async throws(ChaosError) -> Injected {
        let (index, why) = await resolve(target)
        let old = cluster.members[index]
        let start = recorder.now
        let began = ContinuousClock.now
        let how = (live ? "live" : "SIGKILL first") + (why.map { ", \($0)" } ?? "")
        recorder.fault(.replace, .start, target: old.name, detail: how)
        if !live {
            await processes.kill(index)
            try? await Task.sleep(for: plan.downFor)
        }
        let (_, newcomer, running) = try await processes.replace(index)
        try await processes.start(index)
        let healed = ContinuousClock.now
        let ready = await waitReady([index], within: .seconds(30))
        let readyAfter = healed.duration(to: .now)
        var outcome = await removeWhenAdmitted(old.id, newcomer: newcomer.id, within: recoveryDeadline)
        if outcome == nil {
            outcome = await waitMoved(away: old.id, within: recoveryDeadline)
        }
        if let running {
            let ended = await processes.retire(running)
            console.line("node-\(old.id) (removed) stopped: \(ended)")
        }
        let detail = "\(how); replaced by node-\(newcomer.id) in \(newcomer.zone)"
        recorder.fault(
            .replace,
            .end,
            target: old.name,
            detail: "node-\(newcomer.id) in its place" + (outcome.map { "; not done: \($0)" } ?? "")
        )
        return Injected(
            kind: .replace,
            target: old.name,
            detail: detail + (outcome.map { "; not done: \($0)" } ?? ""),
            start: start,
            down: live ? .zero : began.duration(to: healed),
            ready: ready ? readyAfter : nil,
            healedAt: healed
        )
    }

    /// Waits until a member other than the slot's lists `newcomer` in the metadata group, then asks for the
    /// removal of `old` until a node takes it; nil on success, else the last reason.
    private func removeWhenAdmitted(_ old: Int, newcomer: Int, within timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now + timeout
        var last = "node-\(newcomer) not yet in the metadata group"
        while ContinuousClock.now < deadline, !Task.isCancelled {
            for address in await cluster.reachable() {
                guard let status = await admin.status(at: address), status.node != newcomer else { continue }
                guard let meta = status.groups.first(where: { $0.group == "meta" }),
                    (meta.voters + meta.learners).contains(newcomer)
                else { continue }
                guard let refusal = await admin.removeMember(old, at: address) else { return nil }
                last = "removing node-\(old) through node-\(status.node): \(refusal)"
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return last
    }

    /// Polls the members until `removed` holds no replica anywhere and nothing moves; nil once so, else the
    /// last reason.
    private func waitMoved(away removed: Int, within timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now + timeout
        var last: String? = "not checked"
        while ContinuousClock.now < deadline, !Task.isCancelled {
            var statuses: [Int: NodeStatus?] = [:]
            for member in cluster.members { statuses[member.id] = await admin.status(at: member.api) }
            last = ClusterHealth.replacementProblem(statuses: statuses, ids: cluster.ids, removed: removed)
            if last == nil { return nil }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return last
    }
}
