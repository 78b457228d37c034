extension StatusCommand {
    /// One row per lease of every consumer group, as the metadata leader's catalog has it: the owner (while the
    /// lease is held), the fencing token, the checkpoint, and the lag: the shard leader's last log index minus the
    /// index the checkpoint names. Entries, not records: one entry holds a PutRecords call's records for the
    /// shard, and a few are Raft's own (no-ops, configuration). nil when there are no groups.
    static func consumerGroupsTable(_ views: [Int: [String: Any]]) -> String? {
        let metaLeader = views.keys.sorted().first { node in
            (views[node]?["groups"] as? [[String: Any]] ?? []).contains {
                ($0["group"] as? String) == "meta" && ($0["role"] as? String) == "leader"
            }
        }
        guard let source = metaLeader ?? views.keys.sorted().first,
            let groups = views[source]?["consumerGroups"] as? [[String: Any]], !groups.isEmpty
        else { return nil }
        // Each shard's last index on its leader, by "streamId/shardId".
        var last: [String: Int] = [:]
        for view in views.values {
            for group in view["groups"] as? [[String: Any]] ?? [] where (group["role"] as? String) == "leader" {
                guard let stream = group["streamId"] as? String, let shard = group["shardId"] as? String else {
                    continue
                }
                last["\(stream)/\(shard)"] = group["lastIndex"] as? Int
            }
        }
        var rows = [["CONSUMER GROUP", "SHARD", "OWNER", "TOKEN", "CHECKPOINT", "LAG (entries)"]]
        for group in groups {
            let name = "\(group["stream"] as? String ?? "")/\(group["group"] as? String ?? "")"
            let streamID = group["streamId"] as? String ?? ""
            for lease in group["leases"] as? [[String: Any]] ?? [] {
                let shard = lease["shardId"] as? String ?? ""
                let held = lease["held"] as? Bool ?? false
                let owner =
                    held ? lease["owner"] as? String ?? "-" : (lease["workable"] as? Bool ?? true) ? "free" : "-"
                let checkpoint = lease["checkpoint"] as? String ?? ""
                let lag: String
                switch checkpoint {
                case "SHARD_END": lag = "0 (finished)"
                case "INITIAL": lag = (lease["workable"] as? Bool ?? true) ? "not started" : "waits for parents"
                default:
                    if let index = lease["checkpointIndex"] as? Int, let tip = last["\(streamID)/\(shard)"] {
                        lag = "\(max(0, tip - index))"
                    } else {
                        lag = "?"
                    }
                }
                let shown = checkpoint.count > 20 ? "…" + checkpoint.suffix(12) : checkpoint
                rows.append([name, shard, owner, "\(lease["token"] as? Int ?? 0)", String(shown), lag])
            }
        }
        return table(rows)
    }
}
