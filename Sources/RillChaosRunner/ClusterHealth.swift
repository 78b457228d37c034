import RillChaos

/// Judgements over what the nodes report, kept pure so they can be tested on canned reports.
enum ClusterHealth {
    /// Replicas per shard: one per zone, three zones.
    static func replicationFactor(nodes: Int) -> Int { min(3, nodes) }

    /// Whether the cluster is whole again after a fault, so the next fault stays within what Rill promises
    /// to survive: every node answers, holds the metadata group with a leader, every shard of the stream
    /// has its full set of replicas, each knows a leader, and none abstains (a replica that lost its disk
    /// abstains until caught up; wiping another node before then would lose two copies).
    ///
    /// Returns nil when healthy, else the first reason it is not.
    static func problem(statuses: [Int: NodeStatus?], ids: [Int], stream: String, shards: [String]) -> String? {
        var replicas: [String: Int] = [:]
        for node in ids {
            guard let reported = statuses[node], let status = reported else { return "node-\(node) does not answer" }
            guard let meta = status.groups.first(where: { $0.group == "meta" }), meta.leader != nil else {
                return "node-\(node) knows no metadata leader"
            }
            for group in status.groups where group.stream == stream {
                guard let shard = group.shard else { continue }
                if group.abstaining { return "node-\(node) abstains in \(shard) (catching up)" }
                if group.leader == nil { return "node-\(node) knows no leader of \(shard)" }
                replicas[shard, default: 0] += 1
            }
        }
        let factor = replicationFactor(nodes: ids.count)
        for shard in shards where replicas[shard, default: 0] < factor {
            return "\(shard) has \(replicas[shard, default: 0]) of \(factor) replicas open"
        }
        return nil
    }

    /// Whether the removal of member `removed` is complete as the members `ids` report it: each answers,
    /// lists it among the removed nodes, moves no shard, and has it in no group (metadata or shard) as a
    /// voter or learner. Returns nil when complete, else the first reason it is not.
    static func replacementProblem(statuses: [Int: NodeStatus?], ids: [Int], removed: Int) -> String? {
        for node in ids {
            guard let reported = statuses[node], let status = reported else { return "node-\(node) does not answer" }
            guard status.removedNodes.contains(removed) else {
                return "node-\(node) does not list node-\(removed) as removed yet"
            }
            if status.movingShards > 0 { return "node-\(node) reports \(status.movingShards) shards moving" }
            if let group = status.groups.first(where: { ($0.voters + $0.learners).contains(removed) }) {
                return "node-\(node) still has node-\(removed) in \(group.group)"
            }
        }
        return nil
    }

    /// Whether every replica of every shard has applied the same log: equal applied index, records and
    /// digest on every node that holds the shard, and each shard on its full set of replicas.
    ///
    /// Returns nil when converged, else the first difference found.
    static func divergence(checksums: [Int: [ShardChecksum]?], ids: [Int], shards: [String]) -> String? {
        var byShard: [String: [(node: Int, checksum: ShardChecksum)]] = [:]
        for node in ids {
            guard let reported = checksums[node], let list = reported else { return "node-\(node) does not answer" }
            for checksum in list { byShard[checksum.shard, default: []].append((node, checksum)) }
        }
        let factor = replicationFactor(nodes: ids.count)
        for shard in shards {
            let replicas = byShard[shard] ?? []
            guard replicas.count >= factor else {
                return "\(shard) reported by \(replicas.count) of \(factor) replicas"
            }
            let first = replicas[0].checksum
            for (node, other) in replicas.dropFirst()
            where other.applied != first.applied || other.sha256 != first.sha256 || other.records != first.records {
                return "\(shard): node-\(replicas[0].node) applied \(first.applied) (\(first.records) records), "
                    + "node-\(node) applied \(other.applied) (\(other.records) records)"
            }
        }
        return nil
    }
}
