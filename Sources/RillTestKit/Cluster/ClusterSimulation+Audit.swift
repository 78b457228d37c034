import RillKinesis
import RillModel
import RillRaft

/// The invariants: after every step the placement audit of the catalog and the nodes' agreement on every
/// group's voters; once settled, the per-node audit, three voters in three zones for every shard, one catalog
/// everywhere, and every acknowledged put in the committed log of every replica of its shard.
extension ClusterSimulation.World {
    /// After every step.
    mutating func audit() throws(CheckFailure) {
        guard let catalog = clientCatalog else { return }
        if let violation = PlacementAudit.check(catalog: catalog).first {
            throw CheckFailure("placement (catalog)", "\(violation)")
        }
        var views: [UInt64: [PlacementAudit.GroupView]] = [:]
        for node in nodes where node.up { views[node.id] = node.groupViews }
        if let violation = PlacementAudit.agreement(catalog: catalog, views: views).first {
            throw CheckFailure("placement (agreement)", "\(violation)")
        }
    }

    /// Everyone up and caught up: one metadata leader whose catalog every node applied, nothing unplaced or
    /// moving, every copy `ReplicaPlan` opens open, and every shard group led, with every replica applied
    /// through its leader's last entry. nil when settled, else what is still waited for.
    func unsettled() -> String? {
        guard nodes.allSatisfy(\.up) else { return "a node is down" }
        guard let metaLeader = leader(of: .meta), let meta = nodes[metaLeader].groups[.meta] else {
            return "no metadata leader"
        }
        guard meta.commitIndex == meta.log.lastIndex,
            nodes.allSatisfy({ $0.groups[.meta]?.appliedIndex == meta.commitIndex })
        else { return "the catalog is not applied everywhere" }
        let catalog = nodes[metaLeader].catalog
        guard catalog.members.count == settings.founders.count else { return "members \(catalog.members)" }
        guard catalog.unplacedShards.isEmpty, catalog.movingShards.isEmpty else { return "shards unplaced or moving" }
        guard reshard == nil else { return "a reshard is under way" }
        for stream in nodes[metaLeader].streams {
            for shard in stream.shards {
                let group = RaftGroupID.shard(streamID: stream.id, shard: shard.id)
                guard let slot = leader(of: group), let core = nodes[slot].groups[group] else {
                    return "\(group) has no leader"
                }
                guard core.commitIndex == core.log.lastIndex else { return "\(group) has uncommitted entries" }
                for node in nodes {
                    guard case .open = ReplicaPlan.decide(shard, me: node.id, mode: .cluster) else { continue }
                    guard let copy = node.groups[group], copy.appliedIndex == core.commitIndex, copy.leader == core.id
                    else {
                        return "\(group) on node \(node.id) is not open or caught up"
                    }
                }
            }
        }
        return nil
    }

    /// The end state, once settled.
    func checkSettled() throws(CheckFailure) {
        let catalog = nodes[0].catalog
        for node in nodes where node.catalog != catalog {
            throw CheckFailure("catalog agreement", "node \(node.id) holds another catalog than node \(nodes[0].id)")
        }
        if let violation = PlacementAudit.check(catalog: catalog).first {
            throw CheckFailure("placement (settled catalog)", "\(violation)")
        }
        for node in nodes {
            let found = PlacementAudit.check(catalog: catalog, node: node.id, groups: node.groupViews, settled: true)
            if let violation = found.first { throw CheckFailure("placement (settled node)", "\(violation)") }
        }
        let zoneOf = Dictionary(uniqueKeysWithValues: settings.founders.map { ($0.id, $0.zone) })
        for stream in nodes[0].streams {
            for shard in stream.shards {
                let group = RaftGroupID.shard(streamID: stream.id, shard: shard.id)
                let replicas = shard.replicas ?? []
                for id in replicas {
                    guard let core = nodes.first(where: { $0.id == id })?.groups[group] else {
                        throw CheckFailure("replication", "\(group) is not open on its replica \(id)")
                    }
                    let voters = core.configuration.voters.map(\.rawValue)
                    let zones = Set(voters.compactMap { zoneOf[$0] })
                    guard voters.count == 3, zones.count == 3 else {
                        throw CheckFailure(
                            "replication",
                            "\(group) on node \(id) has voters \(voters.sorted()) in zones \(zones.sorted())"
                        )
                    }
                    // Acknowledged never lost: each acknowledged put is committed in every replica's log.
                    for entry in acknowledged[group] ?? [] {
                        guard core.commitIndex >= entry.index, core.log.entry(at: entry.index) == entry else {
                            throw CheckFailure(
                                "acknowledged put lost",
                                "\(group) on node \(id) lacks the put acknowledged at \(entry.term)/\(entry.index) "
                                    + "(has \(core.log.entry(at: entry.index).map { "\($0.kind) \($0.term)/\($0.index)" } ?? "nothing"), "
                                    + "commit \(core.commitIndex))"
                            )
                        }
                    }
                }
            }
        }
        for group in acknowledged.keys.sorted()
        where !nodes[0].streams.contains(where: { stream in
            stream.shards.contains { RaftGroupID.shard(streamID: stream.id, shard: $0.id) == group }
        }) {
            throw CheckFailure("acknowledged put lost", "\(group) took puts but is in no stream of the catalog")
        }
    }

    func summary() -> String {
        nodes.map { node in
            guard node.up else { return "\(node.id):down" }
            let groups = node.groups.keys.sorted().map { group -> String in
                guard let core = node.groups[group] else { return "" }
                return "\(group)=\(core.role) t\(core.term) last=\(core.log.lastIndex) commit=\(core.commitIndex) "
                    + "applied=\(core.appliedIndex) voters=\(core.configuration.voters.map(\.rawValue).sorted())"
            }
            return "\(node.id): catalog@\(node.catalog.appliedIndex) [\(groups.joined(separator: "; "))]"
        }.joined(separator: " | ")
    }
}
