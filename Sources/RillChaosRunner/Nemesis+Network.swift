import RillChaos

extension FaultKind {
    /// A node's links slowed, order kept.
    static let delay = FaultKind(rawValue: "delay")
    /// A node cut off by the kernel (`--netns`): link down or nftables drops.
    static let netPartition = FaultKind(rawValue: "netpartition")
}

/// Slow links and kernel-level cuts.
extension Nemesis {
    // MARK: - Delay

    /// Slows the target's links for `plan.downFor`: with netem (netns runs on kernels that have it) on the
    /// node's interface, else through the transport hooks of both ends of each link, so both directions are
    /// slow. Healed by removing the qdisc or by `{"heal":true}` on every node.
    func delayLinks(_ target: FaultPlan.Target, _ delay: FaultPlan.LinkDelay, plan: FaultPlan) async -> Injected {
        let (index, why) = await resolve(target)
        let others = cluster.members.indices.filter { $0 != index }
        let peers = delay.toEveryone ? others : [others[delay.pick % others.count]]
        let name = cluster.members[index].name
        let range = "\(delay.fixedMillis)–\(delay.fixedMillis + delay.jitterMillis) ms"
        let start = recorder.now
        var failures = ""
        let detail: String
        if let network, network.hasNetem {
            // netem slows everything the node sends, clients included; it cannot pick peers.
            detail = "netem: everything it sends waits \(range)" + (why.map { ", \($0)" } ?? "")
            recorder.fault(.delay, .start, target: name, detail: detail)
            let command = network.layout.netemDelay(
                index,
                fixedMillis: delay.fixedMillis,
                jitterMillis: delay.jitterMillis
            )
            if let failure = await network.run(command) { failures = " (failed: \(failure))" }
        } else {
            detail = "frames to and from \(names(peers)) wait \(range), in order" + (why.map { ", \($0)" } ?? "")
            recorder.fault(.delay, .start, target: name, detail: detail)
            var commands = [(index, Self.delayCommand(peers.map { cluster.members[$0].id }, delay))]
            for peer in peers { commands.append((peer, Self.delayCommand([cluster.members[index].id], delay))) }
            failures = await inject(commands)
        }
        try? await Task.sleep(for: plan.downFor)
        let healed = ContinuousClock.now
        var unhealed = await healEverywhere()
        if let network, network.hasNetem, await network.run(network.layout.netemClear(index)) != nil {
            unhealed.append(index)
        }
        let ready = await waitReady(Array(cluster.members.indices), within: .seconds(30))
        recorder.fault(
            .delay,
            .end,
            target: name,
            detail: unhealed.isEmpty ? "delay removed" : "heal failed on \(names(unhealed))"
        )
        return Injected(
            kind: .delay,
            target: name,
            detail: detail + failures,
            start: start,
            down: plan.downFor,
            ready: ready ? healed.duration(to: .now) : nil,
            healedAt: healed
        )
    }

    private static func delayCommand(_ peers: [Int], _ delay: FaultPlan.LinkDelay) -> String {
        let each = peers.map {
            #"{"peer":\#($0),"millis":\#(delay.fixedMillis),"jitterMillis":\#(delay.jitterMillis)}"#
        }
        return #"{"delay":[\#(each.joined(separator: ","))]}"#
    }

    // MARK: - Kernel cuts

    /// Cuts the target in the kernel for `plan.downFor`, then heals the cut: its link down, or nftables
    /// rules in its namespace dropping packets to (and for an isolation, from) its peers.
    func netPartition(
        _ target: FaultPlan.Target,
        _ cut: FaultPlan.NetCut,
        plan: FaultPlan
    )
        async throws(ChaosError) -> Injected
    {
        guard let network else { throw .harness("netpartition needs --netns") }
        let (index, why) = await resolve(target)
        let others = cluster.members.indices.filter { $0 != index }
        let name = cluster.members[index].name
        let layout = network.layout
        // Without nftables every cut is a link cut; the detail says which ran.
        let effective = network.hasNftables ? cut : .linkDown
        let (command, undo, what): ([String], [String], String)
        switch effective {
        case .linkDown:
            (command, undo, what) = (
                layout.link(index, up: false), layout.link(index, up: true), "link down, clients too"
            )
        case .isolateFromPeers:
            (command, undo, what) = (
                layout.cut(index, from: others, inbound: true), layout.uncut(index),
                "nftables drops all packets to and from \(names(others))"
            )
        case .oneWay(let pick):
            let peer = others[pick % others.count]
            (command, undo, what) = (
                layout.cut(index, from: [peer], inbound: false), layout.uncut(index),
                "nftables drops what it sends to \(names([peer])), one way"
            )
        }
        let detail = what + (why.map { ", \($0)" } ?? "")
        let start = recorder.now
        recorder.fault(.netPartition, .start, target: name, detail: detail)
        let failure = await network.run(command)
        if let failure { console.line("netpartition failed: \(failure)") }
        try? await Task.sleep(for: plan.downFor)
        let healed = ContinuousClock.now
        let unhealed = await network.run(undo)
        if let unhealed { console.line("netpartition heal failed: \(unhealed)") }
        let ready = await waitReady(Array(cluster.members.indices), within: .seconds(30))
        recorder.fault(.netPartition, .end, target: name, detail: unhealed == nil ? "healed" : "heal failed")
        return Injected(
            kind: .netpartition,
            target: name,
            detail: detail + (failure.map { " (failed: \($0))" } ?? ""),
            start: start,
            down: plan.downFor,
            ready: ready ? healed.duration(to: .now) : nil,
            healedAt: healed
        )
    }
}
