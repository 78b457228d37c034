import Foundation

/// Where a node's API listens: `host:port`, over plain HTTP.
struct APIAddress: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int

    var description: String { "\(host):\(port)" }

    /// `http://host:port` (a trailing slash allowed) or bare `host:port`; nil for anything else.
    init?(url text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if rest.hasPrefix("http://") { rest = rest.dropFirst("http://".count) }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/"), let colon = rest.lastIndex(of: ":"),
            let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        var host = String(rest[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// A node of the cluster under test, as the workload and the nemesis address it.
struct Member: Sendable, Equatable {
    /// The node's id (`rill node --id`), as `/admin/status` and the fault hooks name it.
    var id: Int
    var api: APIAddress

    /// The name fault events and checksums use.
    var name: String { "node-\(id)" }
}

/// The cluster a chaos run works on: one it started (`LocalCluster`) or one it found (`RemoteCluster`).
protocol ChaosCluster: Sendable {
    var members: [Member] { get }
    /// API addresses a client can expect an answer from (not killed or paused by the nemesis).
    func reachable() async -> [APIAddress]
}

extension ChaosCluster {
    var ids: [Int] { members.map(\.id) }

    /// The 0-based index of the member with `id`.
    func index(of id: Int) -> Int? { members.firstIndex { $0.id == id } }
}

/// A running cluster the harness did not start (`rill chaos --endpoint`): it can reach the nodes' APIs and
/// their `/admin/faults`, but not their processes, so only the fault-hook nemeses apply.
struct RemoteCluster: ChaosCluster {
    let members: [Member]
    /// Routers given with `--endpoint`: the workload uses them too, the nemesis leaves them alone.
    let routers: [APIAddress]

    func reachable() async -> [APIAddress] { members.map(\.api) + routers }
}
