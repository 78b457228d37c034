/// The network of a `--netns` run: names, addresses and the `ip`/`nft`/`tc` commands that build, cut and
/// remove it. No I/O: `NetworkNamespaces` runs the commands.
///
///     root namespace (the harness)                     one namespace per node
///     bridge rc<tag>br 10.A.B.254/24 ── veth rc<tag>v1 ══ eth0 10.A.B.1/24   rillchaos-<tag>-n1
///                                   ── veth rc<tag>v2 ══ eth0 10.A.B.2/24   rillchaos-<tag>-n2
///                                   ── veth rc<tag>v3 ══ eth0 10.A.B.3/24   rillchaos-<tag>-n3
///
/// The tag is the harness's pid, so runs side by side never share a name, and a namespace whose pid is
/// gone is a leftover of a run that was killed. Interface names stay within Linux's 15 bytes.
struct NetnsLayout: Sendable, Equatable {
    let tag: String
    let nodes: Int
    /// The second and third octet of the nodes' 10.A.B.0/24.
    let subnet: (a: UInt8, b: UInt8)

    static let namespacePrefix = "rillchaos-"
    /// The nftables table the cuts live in, one per node namespace.
    static let table = "rillchaos"

    init(tag: String, nodes: Int, subnet: (a: UInt8, b: UInt8)) {
        precondition(tag.count <= 9 && tag.allSatisfy(\.isNumber), "a netns tag is a pid: \(tag)")
        precondition((1...250).contains(nodes), "a /24 holds at most 250 nodes")
        self.tag = tag
        self.nodes = nodes
        self.subnet = subnet
    }

    static func == (lhs: NetnsLayout, rhs: NetnsLayout) -> Bool {
        lhs.tag == rhs.tag && lhs.nodes == rhs.nodes && lhs.subnet == rhs.subnet
    }

    func namespace(_ index: Int) -> String { "\(Self.namespacePrefix)\(tag)-n\(index + 1)" }
    var bridge: String { "rc\(tag)br" }
    func hostVeth(_ index: Int) -> String { "rc\(tag)v\(index + 1)" }
    /// The node's end before it moves into its namespace and becomes `eth0`.
    func nodeVeth(_ index: Int) -> String { "rc\(tag)p\(index + 1)" }
    func address(_ index: Int) -> String { "10.\(subnet.a).\(subnet.b).\(index + 1)" }
    var gateway: String { "10.\(subnet.a).\(subnet.b).254" }
    var prefix: String { "10.\(subnet.a).\(subnet.b)." }

    /// `ip` argument lists that build everything, in order.
    var setup: [[String]] {
        var commands: [[String]] = [
            ["link", "add", bridge, "type", "bridge"],
            ["addr", "add", "\(gateway)/24", "dev", bridge],
            ["link", "set", bridge, "up"],
        ]
        for index in 0..<nodes {
            let namespace = namespace(index)
            commands += [
                ["netns", "add", namespace],
                ["link", "add", hostVeth(index), "type", "veth", "peer", "name", nodeVeth(index)],
                ["link", "set", nodeVeth(index), "netns", namespace],
                ["-n", namespace, "link", "set", nodeVeth(index), "name", "eth0"],
                ["-n", namespace, "addr", "add", "\(address(index))/24", "dev", "eth0"],
                ["-n", namespace, "link", "set", "eth0", "up"],
                ["-n", namespace, "link", "set", "lo", "up"],
                ["link", "set", hostVeth(index), "master", bridge],
                ["link", "set", hostVeth(index), "up"],
            ]
        }
        return commands
    }

    /// `ip` argument lists that remove everything; each may fail harmlessly when its part never existed.
    /// Deleting a namespace removes its veth pair; the bridge goes last.
    var teardown: [[String]] {
        (0..<nodes).map { ["netns", "delete", namespace($0)] } + (0..<nodes).map { ["link", "delete", hostVeth($0)] }
            + [["link", "delete", bridge]]
    }

    /// The command that runs `command` inside node `index`'s namespace (`ip netns exec` execs in place).
    func inside(_ index: Int, _ command: [String]) -> [String] { ["netns", "exec", namespace(index)] + command }

    /// Sets the host end of node `index`'s link down or up: with it down no packet reaches or leaves the node.
    func link(_ index: Int, up: Bool) -> [String] { ["link", "set", hostVeth(index), up ? "up" : "down"] }

    /// An `nft` script for node `index`'s namespace that drops what it sends to `peers` and, with `inbound`,
    /// what it receives from them. Clients (the harness at the gateway) are untouched.
    func cut(_ index: Int, from peers: [Int], inbound: Bool) -> [String] {
        let table = "inet \(Self.table)"
        var script = [
            "add table \(table)",
            "add chain \(table) output { type filter hook output priority 0; }",
            "add chain \(table) input { type filter hook input priority 0; }",
        ]
        for peer in peers {
            script.append("add rule \(table) output ip daddr \(address(peer)) drop")
            if inbound { script.append("add rule \(table) input ip saddr \(address(peer)) drop") }
        }
        return inside(index, ["nft", script.joined(separator: "; ")])
    }

    /// Removes node `index`'s cut (fails harmlessly when there is none).
    func uncut(_ index: Int) -> [String] { inside(index, ["nft", "delete table inet \(Self.table)"]) }

    /// A netem qdisc delaying everything node `index` sends, order kept (netem reorders only with `reorder`).
    func netemDelay(_ index: Int, fixedMillis: Int, jitterMillis: Int) -> [String] {
        var command = ["tc", "qdisc", "replace", "dev", "eth0", "root", "netem", "delay", "\(fixedMillis)ms"]
        if jitterMillis > 0 { command.append("\(jitterMillis)ms") }
        return inside(index, command)
    }

    func netemClear(_ index: Int) -> [String] { inside(index, ["tc", "qdisc", "del", "dev", "eth0", "root"]) }

    /// The pid in a namespace name of this harness's making, such as `rillchaos-4242-n1`, else nil.
    static func ownerPID(ofNamespace name: String) -> Int32? {
        guard name.hasPrefix(namespacePrefix) else { return nil }
        let rest = name.dropFirst(namespacePrefix.count)
        guard let dash = rest.firstIndex(of: "-"), rest[rest.index(after: dash)...].hasPrefix("n") else { return nil }
        return Int32(rest[..<dash])
    }

    /// A 10.A.B.0/24 none of `inUse` (dotted IPv4 addresses on this host) falls in, tried from a start
    /// the tag picks; nil if every candidate is taken.
    static func freeSubnet(tag: String, inUse: [String]) -> (a: UInt8, b: UInt8)? {
        let seed = Int(tag) ?? 0
        for step in 0..<(56 * 256) {
            let slot = (seed + step) % (56 * 256)
            let candidate = (a: UInt8(200 + slot / 256), b: UInt8(slot % 256))
            let prefix = "10.\(candidate.a).\(candidate.b)."
            if !inUse.contains(where: { $0.hasPrefix(prefix) }) { return candidate }
        }
        return nil
    }
}
