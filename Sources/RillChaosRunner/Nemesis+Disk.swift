import RillChaos

extension Nemesis {
    /// kill -9 of one node, damage to one of its shard segments while it is down, then a restart: the node
    /// must find the damage by CRC at recovery, abstain, and catch up from the leader before the next fault.
    func damageDisk(
        _ target: FaultPlan.Target,
        _ damage: FaultPlan.DiskDamage,
        salt: UInt64,
        plan: FaultPlan
    )
        async throws(ChaosError) -> Injected
    {
        let (index, why) = await resolve(target)
        let node = processes.nodes[index]
        let what = damage == .bitflip ? "a bit flipped in a shard segment" : "a shard segment's tail cut off"
        let start = recorder.now
        recorder.fault(.disk, .start, target: node.name, detail: "SIGKILL, \(what)" + (why.map { ", \($0)" } ?? ""))
        await processes.kill(index)
        let done =
            try SegmentDamage.apply(damage, salt: salt, dataDirectory: node.dataDirectory)
            ?? "no shard segment to damage (left as a plain kill)"
        try? await Task.sleep(for: plan.downFor)
        let healed = ContinuousClock.now
        try await processes.start(index)
        let ready = await waitReady([index], within: .seconds(30))
        recorder.fault(
            .disk,
            .end,
            target: node.name,
            detail: done + (ready ? "; restarted" : "; restarted, not ready after 30 s")
        )
        return Injected(
            kind: .disk,
            target: node.name,
            detail: "SIGKILL, " + done + (why.map { ", \($0)" } ?? ""),
            start: start,
            down: plan.downFor,
            ready: ready ? healed.duration(to: .now) : nil,
            healedAt: healed
        )
    }
}
