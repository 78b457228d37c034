import ArgumentParser
import Foundation
import NIOPosix
import NIOSSL
import RillBench
import RillTLS

/// `rill status`: the cluster as its nodes see it — members, and every shard's leader, replicas and lag —
/// from each node's `GET /admin/status`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print the cluster's members and every shard's leader, replicas and lag."
    )

    @Option(help: "Any node's API endpoint; the others are found from its member list.")
    var endpoint = "http://127.0.0.1:4567"

    @Flag(help: "Print one JSON object (every node's /admin/status, by node id) instead of tables.")
    var json = false

    @Option(
        name: .customLong("ca-bundle"),
        help: "PEM CA certificates an https --endpoint is checked against (default: the system's)."
    )
    var caBundle: String?

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            try await report(group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    private func report(group: MultiThreadedEventLoopGroup) async throws {
        let secure = endpoint.hasPrefix("https://")
        let tls = secure ? try APITLS.clientContext(trusting: caBundle) : nil
        let first = try await Self.status(of: endpoint, group: group, tls: tls)
        var views: [Int: [String: Any]] = [:]
        var members: [[String: Any]] = first["members"] as? [[String: Any]] ?? []
        if members.isEmpty {
            members = [["id": first["node"] ?? 1, "zone": first["zone"] ?? "", "api": endpoint, "peer": "-"]]
        }
        for member in members {
            guard let id = member["id"] as? Int else { continue }
            let api =
                (member["api"] as? String).map { $0.hasPrefix("http") ? $0 : (secure ? "https://" : "http://") + $0 }
                ?? endpoint
            views[id] = try? await Self.status(of: api, group: group, tls: tls)
        }
        if json {
            let combined = Dictionary(uniqueKeysWithValues: views.map { (String($0.key), $0.value as Any) })
            let data = try JSONSerialization.data(withJSONObject: combined, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let removed = Set(first["removedNodes"] as? [Int] ?? [])
        print(Self.membersTable(members.filter { !removed.contains($0["id"] as? Int ?? -1) }, views: views))
        if let moving = first["movingShards"] as? Int, moving > 0 || !removed.isEmpty {
            // Membership changes under way (operations.md, "Remove a node"): 0 moving means every move is done.
            let gone = removed.sorted().map(String.init).joined(separator: ", ")
            print("\nshards moving to new replicas: \(moving)" + (gone.isEmpty ? "" : "; removed nodes: \(gone)"))
        }
        print("")
        print(Self.groupsTable(views))
        print("")
        if let consumers = Self.consumerGroupsTable(views) {
            print(consumers)
            print("")
        }
        let problems = Self.placementProblems(views)
        print(
            problems.isEmpty
                ? "placement: every shard has its placed voters, in distinct zones, on every node"
                : "placement problems:"
        )
        for problem in problems { print("  " + problem) }
        let decisions = views.values.compactMap { $0["onDemandDecisions"] as? [[String: Any]] }.max {
            $0.count < $1.count
        }
        if let decisions, !decisions.isEmpty {
            print("\non-demand scaling, latest decisions (the metadata leader's):")
            print(Self.decisionsTable(decisions))
        }
    }

    /// The controller's recent split and merge decisions with the utilization that made them.
    static func decisionsTable(_ decisions: [[String: Any]]) -> String {
        var rows = [["time", "stream", "decision", "shards", "utilization"]]
        for decision in decisions {
            let millis = decision["timeMillis"] as? Int ?? 0
            let time = Date(timeIntervalSince1970: Double(millis) / 1000).formatted(.iso8601)
            rows.append([
                time, decision["stream"] as? String ?? "?", decision["decision"] as? String ?? "?",
                (decision["shards"] as? [String] ?? []).joined(separator: " + "),
                "\(decision["utilizationPercent"] as? Int ?? 0) %",
            ])
        }
        return table(rows)
    }

    /// The placement invariant across the nodes' reports: what each node's own audit found, and groups whose
    /// voters differ between nodes or that a node leads alone while others are members.
    static func placementProblems(_ views: [Int: [String: Any]]) -> [String] {
        var problems: [String] = []
        var voters: [String: [(node: Int, voters: [Int])]] = [:]
        for node in views.keys.sorted() {
            let view = views[node] ?? [:]
            for violation in view["placementViolations"] as? [[String: Any]] ?? [] {
                let shard = violation["shardId"] as? String ?? ""
                problems.append(
                    "node \(node): \(violation["stream"] as? String ?? "")/\(shard) \(violation["problem"] as? String ?? "")"
                )
            }
            for group in view["groups"] as? [[String: Any]] ?? [] {
                guard let stream = group["stream"] as? String, let shard = group["shardId"] as? String else { continue }
                let ids = (group["voters"] as? [Int] ?? []).sorted()
                if ids == [node] && views.count > 1 {
                    problems.append("\(stream)/\(shard) is led by node \(node) alone")
                }
                voters["\(stream)/\(shard)", default: []].append((node, ids))
            }
        }
        for name in voters.keys.sorted() {
            let seen = voters[name] ?? []
            if Set(seen.map(\.voters)).count > 1 {
                problems.append(
                    "\(name): nodes disagree on its voters (\(seen.map { "node \($0.node): \($0.voters)" }.joined(separator: "; ")))"
                )
            }
        }
        return problems
    }

    static func status(
        of endpoint: String,
        group: MultiThreadedEventLoopGroup,
        tls: NIOSSLContext? = nil
    ) async throws -> [String: Any] {
        let (code, body) = try await AdminFetch.get(endpoint, path: "/admin/status", on: group, tls: tls)
        guard code == 200, let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw ValidationError("\(endpoint)/admin/status answered \(code)")
        }
        return object
    }

    /// One row per member: its role and addresses, its state in the gossip view of the node asked, its
    /// incarnation, whether its own admin endpoint answered, and how many groups it leads.
    static func membersTable(_ members: [[String: Any]], views: [Int: [String: Any]]) -> String {
        var rows = [["MEMBER", "ROLE", "ZONE", "API", "PEER", "GOSSIP", "INCARNATION", "ADMIN", "LEADS"]]
        for member in members {
            let id = member["id"] as? Int ?? 0
            let groups = views[id]?["groups"] as? [[String: Any]] ?? []
            let leads = groups.filter { ($0["role"] as? String) == "leader" }.count
            rows.append([
                "\(id)", member["role"] as? String ?? "node", member["zone"] as? String ?? "",
                member["api"] as? String ?? "", member["peer"] as? String ?? "", member["state"] as? String ?? "-",
                (member["incarnation"] as? Int).map(String.init) ?? "-",
                views[id] == nil ? "unreachable" : "up", views[id] == nil ? "-" : "\(leads)",
            ])
        }
        return table(rows)
    }

    /// One row per group: its leader, and each replica's last index behind the leader's.
    static func groupsTable(_ views: [Int: [String: Any]]) -> String {
        var byGroup: [String: [(node: Int, group: [String: Any])]] = [:]
        for (node, view) in views {
            for group in view["groups"] as? [[String: Any]] ?? [] {
                let name = (group["stream"] as? String).map { "\($0)/\(group["shardId"] as? String ?? "")" } ?? "meta"
                byGroup[name, default: []].append((node, group))
            }
        }
        var rows = [["GROUP", "LEADER", "TERM", "COMMIT", "REPLICAS (node: entries behind the leader)"]]
        for name in byGroup.keys.sorted(by: { ($0 == "meta" ? "" : $0) < ($1 == "meta" ? "" : $1) }) {
            let replicas = byGroup[name] ?? []
            let leaderView = replicas.first { ($0.group["role"] as? String) == "leader" }
            let leaderLast = leaderView?.group["lastIndex"] as? Int
            let lags = replicas.sorted { $0.node < $1.node }.map { replica -> String in
                let last = replica.group["lastIndex"] as? Int ?? 0
                let learners = leaderView?.group["learners"] as? [Int] ?? []
                let mark =
                    (replica.group["abstaining"] as? Bool) == true
                    ? " (catching up, no vote)" : learners.contains(replica.node) ? " (learner)" : ""
                return "\(replica.node): \(leaderLast.map { max(0, $0 - last) }.map(String.init) ?? "?")\(mark)"
            }
            rows.append([
                name, leaderView.map { "\($0.node)" } ?? "none", "\(leaderView?.group["term"] as? Int ?? 0)",
                "\(leaderView?.group["commit"] as? Int ?? 0)", lags.joined(separator: ", "),
            ])
        }
        return table(rows)
    }

    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
