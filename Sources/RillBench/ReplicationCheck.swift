import Foundation
import NIOCore
import NIOSSL
import RillClient

/// What `rill bench` found about the stream it measures: how many copies each shard has, on which nodes and
/// zones. A stream created at the wrong moment used to be unreplicated and twice as fast, so every figure
/// states this beside it.
struct Replication: Sendable {
    /// One line for people: "3 voters in 3 zones on every shard", or what is wrong.
    var summary: String
    /// Whether every shard had three voters in three distinct zones, the same on every node holding it.
    var replicated: Bool
    /// The voters of each shard, by shard id.
    var voters: [String: [Int]]
    /// A node alone: it has no replicas to wait for.
    var alone = false
    /// Whether waiting cannot change the finding: a replicated stream, or a node alone (waiting out the deadline
    /// there delayed every one-node run by 15 s).
    var isFinal: Bool { replicated || alone }

    static let oneNode = Replication(
        summary: "one node, no replicas (a one-node cluster)",
        replicated: false,
        voters: [:],
        alone: true
    )

    static let unknown = Replication(
        summary: "unknown (the endpoint serves no /admin/status)",
        replicated: false,
        voters: [:]
    )
}

/// Reads every node's `/admin/status` (found from the first endpoint's member list) and checks the stream's
/// groups, waiting up to `within` for every node to have opened them.
enum ReplicationCheck {
    static func run(
        stream: String,
        endpoint: Endpoint,
        group: any EventLoopGroup,
        within: Duration = .seconds(15)
    ) async -> Replication {
        let deadline = ContinuousClock.now + within
        var last = Replication.unknown
        while true {
            if let found = await once(stream: stream, endpoint: endpoint, group: group) {
                last = found
                if found.isFinal { return found }
            } else {
                return last
            }
            guard ContinuousClock.now < deadline else { return last }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// nil when the endpoint has no admin status (not a Rill node or router).
    private static func once(stream: String, endpoint: Endpoint, group: any EventLoopGroup) async -> Replication? {
        let scheme = endpoint.secure ? "https://" : "http://"
        guard let first = await status(scheme + endpoint.hostHeader, tls: endpoint.tls, group: group) else {
            return nil
        }
        let members = (first["members"] as? [[String: Any]] ?? []).filter { ($0["role"] as? String) == "node" }
        if members.isEmpty {
            return .oneNode
        }
        var zones: [Int: String] = [:]
        for member in members {
            if let id = member["id"] as? Int, let zone = member["zone"] as? String { zones[id] = zone }
        }
        var voters: [String: Set<[Int]>] = [:]
        var holders: [String: Int] = [:]
        for member in members {
            guard let api = member["api"] as? String,
                let view = await status(scheme + api, tls: endpoint.tls, group: group)
            else { continue }
            for group in view["groups"] as? [[String: Any]] ?? [] where group["stream"] as? String == stream {
                guard let shard = group["shardId"] as? String else { continue }
                voters[shard, default: []].insert((group["voters"] as? [Int] ?? []).sorted())
                holders[shard, default: 0] += 1
            }
        }
        guard !voters.isEmpty else {
            return Replication(summary: "no node holds a group of \(stream) yet", replicated: false, voters: [:])
        }
        var problems: [String] = []
        var settled: [String: [Int]] = [:]
        for shard in voters.keys.sorted() {
            let seen = voters[shard] ?? []
            guard seen.count == 1, let ids = seen.first else {
                problems.append(
                    "\(shard): nodes disagree on its voters \(seen.sorted { $0.lexicographicallyPrecedes($1) })"
                )
                continue
            }
            settled[shard] = ids
            let distinctZones = Set(ids.compactMap { zones[$0] }).count
            if ids.count != 3 || distinctZones != 3 {
                problems.append("\(shard): voters \(ids) in \(distinctZones) zones")
            } else if holders[shard] != 3 {
                problems.append("\(shard): \(holders[shard] ?? 0) of 3 copies open")
            }
        }
        if problems.isEmpty {
            return Replication(
                summary: "every shard (\(settled.count)) has 3 voters in 3 zones, the same on every node",
                replicated: true,
                voters: settled
            )
        }
        return Replication(
            summary: "NOT REPLICATED as placed: " + problems.joined(separator: "; "),
            replicated: false,
            voters: settled
        )
    }

    private static func status(
        _ endpoint: String,
        tls: NIOSSLContext?,
        group: any EventLoopGroup
    ) async -> [String: Any]? {
        guard let (code, body) = try? await AdminFetch.get(endpoint, path: "/admin/status", on: group, tls: tls),
            code == 200
        else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }
}
