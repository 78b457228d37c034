import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The nodes' network namespaces of a `--netns` run (layout in `NetnsLayout`): built before the nodes
/// start, cut and healed by the `netpartition` nemesis (and `delay` when the kernel has netem), removed
/// when the run ends however it ends.
struct NetworkNamespaces: Sendable {
    let layout: NetnsLayout
    let ip: String
    /// Whether `nft` works in a namespace; without it `netpartition` only sets links down.
    let hasNftables: Bool
    /// Whether the kernel has the netem qdisc; without it `delay` uses the transport's fault hooks.
    let hasNetem: Bool

    /// Why `--netns` cannot work here, or nil: it needs root and iproute2's `ip` with `ip netns`.
    static func unavailable() async -> String? {
        guard geteuid() == 0 else {
            return "--netns needs root (it creates network namespaces, veth pairs and a bridge); "
                + "run as root, or leave out --netns to run the nodes on loopback"
        }
        guard let ip = SystemCommand.find("ip") else {
            return "--netns needs iproute2's `ip` (apt-get install iproute2)"
        }
        let probe = "\(NetnsLayout.namespacePrefix)probe-\(getpid())"
        let added = await SystemCommand.run(ip, ["netns", "add", probe])
        guard added.succeeded else { return "--netns: `ip netns add` fails here: \(added.output)" }
        _ = await SystemCommand.run(ip, ["netns", "delete", probe])
        return nil
    }

    /// Builds one namespace per node, first removing what killed runs left behind. Logs what works.
    static func create(nodes: Int, console: Console) async throws(ChaosError) -> NetworkNamespaces {
        if let reason = await unavailable() { throw .harness(reason) }
        guard let ip = SystemCommand.find("ip") else { throw .harness("--netns needs iproute2's `ip`") }
        await removeLeftovers(ip: ip, console: console)
        let addresses = await SystemCommand.run(ip, ["-o", "-4", "addr", "show"]).output
            .split(whereSeparator: \.isWhitespace).map(String.init).filter { $0.hasPrefix("10.") }
        let tag = "\(getpid())"
        guard let subnet = NetnsLayout.freeSubnet(tag: tag, inUse: addresses) else {
            throw .harness("--netns: no free 10.200-255.x.0/24 subnet on this host")
        }
        let layout = NetnsLayout(tag: tag, nodes: nodes, subnet: subnet)
        for command in layout.setup {
            let result = await SystemCommand.run(ip, command)
            guard result.succeeded else {
                await teardown(layout, ip: ip)
                throw .harness("--netns: `ip \(command.joined(separator: " "))` failed: \(result.output)")
            }
        }
        let nft = await SystemCommand.run(ip, layout.inside(0, ["nft", "list", "tables"])).succeeded
        let netem = await SystemCommand.run(ip, layout.netemDelay(0, fixedMillis: 1, jitterMillis: 0)).succeeded
        if netem { _ = await SystemCommand.run(ip, layout.netemClear(0)) }
        console.line(
            "netns: \(nodes) namespaces \(layout.namespace(0))…, nodes at \(layout.prefix)1-\(nodes), "
                + "bridge \(layout.bridge) at \(layout.gateway); "
                + (nft ? "nftables works" : "no nftables (netpartition only sets links down)") + "; "
                + (netem ? "netem delays links" : "no netem qdisc in this kernel: delay uses the transport hooks")
        )
        return NetworkNamespaces(layout: layout, ip: ip, hasNftables: nft, hasNetem: netem)
    }

    /// Removes every namespace, veth and the bridge. Safe to call twice.
    func teardown() async { await Self.teardown(layout, ip: ip) }

    /// Runs one `ip` command of the layout; nil on success, else what it printed.
    func run(_ command: [String]) async -> String? {
        let result = await SystemCommand.run(ip, command)
        return result.succeeded ? nil : "`ip \(command.joined(separator: " "))`: \(result.output)"
    }

    private static func teardown(_ layout: NetnsLayout, ip: String) async {
        for command in layout.teardown { _ = await SystemCommand.run(ip, command) }
    }

    /// Namespaces (and their bridge and veths) of runs whose harness is gone: killed with SIGKILL, it never
    /// cleaned up.
    private static func removeLeftovers(ip: String, console: Console) async {
        let listed = await SystemCommand.run(ip, ["netns", "list"]).output
        var stale: [Int32: Int] = [:]
        for line in listed.split(separator: "\n") {
            let name = String(line.split(separator: " ").first ?? "")
            guard let pid = NetnsLayout.ownerPID(ofNamespace: name), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let node = Int(name.split(separator: "-n").last ?? "") ?? 1
            stale[pid] = max(stale[pid] ?? 0, node)
        }
        for (pid, nodes) in stale {
            let layout = NetnsLayout(tag: "\(pid)", nodes: nodes, subnet: (0, 0))
            console.line("netns: removing \(nodes) namespaces left by chaos run \(pid), which is gone")
            await teardown(layout, ip: ip)
        }
    }
}
