// MARK: - Replicas agree

extension Checker {
    struct ReplicaFindings {
        var divergence = Finding<Anomaly.Divergence>()
        var lagging = Finding<Anomaly.Lag>()
    }

    /// Raft's Log Matching property (§5.3): logs that agree at an index agree on everything before it, so
    /// replicas that applied as much must hold byte-identical logs. Replicas that applied different amounts
    /// are only behind; after healing that is a note, since a follower may still be catching up.
    func checkReplicas(_ index: HistoryIndex) -> ReplicaFindings {
        var findings = ReplicaFindings()
        var replicasOf: [String: [Anomaly.ReplicaChecksum]] = [:]
        var shards: [String] = []
        for node in index.checksumNodes {
            for entry in index.checksums[node]?.shards ?? [] {
                if replicasOf[entry.shard] == nil { shards.append(entry.shard) }
                replicasOf[entry.shard, default: []].append(
                    Anomaly.ReplicaChecksum(
                        node: node,
                        applied: entry.applied,
                        sha256: entry.sha256,
                        records: entry.records,
                        voters: entry.voters
                    )
                )
            }
        }
        for shard in shards {
            let replicas = replicasOf[shard] ?? []
            var appliedLevels: [UInt64] = []
            for replica in replicas where !appliedLevels.contains(replica.applied) {
                appliedLevels.append(replica.applied)
            }
            for applied in appliedLevels.sorted() {
                let peers = replicas.filter { $0.applied == applied }
                let first = peers[0]
                if peers.contains(where: { $0.sha256 != first.sha256 || $0.records != first.records }) {
                    findings.divergence.record(
                        Anomaly.Divergence(shard: shard, applied: applied, replicas: peers),
                        limit: exampleLimit
                    )
                }
            }
            if appliedLevels.count > 1 {
                findings.lagging.record(Anomaly.Lag(shard: shard, replicas: replicas), limit: exampleLimit)
            }
        }
        return findings
    }
}
