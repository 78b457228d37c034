import RillModel

/// The invariant behind "an acknowledged record is on a majority of zones": every open shard's group has
/// exactly the voters placement chose, one per zone, on every node. A pure check over the catalog and the
/// groups' configurations as nodes report them; the node runs it on its own groups every second (reported in
/// `/admin/status` and `rill_placement_violations`), and `rill status`, the cluster tests and `rill chaos` run
/// `agreement` over every node's report.
public enum PlacementAudit {
    /// One group as a node holds it: the configuration in its log.
    public struct GroupView: Sendable, Equatable {
        public var streamID: String
        public var shard: UInt32
        public var voters: [UInt64]
        public var learners: [UInt64]

        public init(streamID: String, shard: UInt32, voters: [UInt64], learners: [UInt64] = []) {
            self.streamID = streamID
            self.shard = shard
            self.voters = voters.sorted()
            self.learners = learners.sorted()
        }
    }

    /// One broken promise, named precisely enough to find the group.
    public struct Violation: Sendable, Equatable, CustomStringConvertible {
        public var streamID: String
        public var stream: String
        public var shard: UInt32?
        /// The node whose report shows it; nil for a fault of the catalog itself.
        public var node: UInt64?
        public var problem: String

        public var description: String {
            let shardName = shard.map { " " + ShardID(index: $0).name } ?? ""
            let where_ = node.map { " on node \($0)" } ?? ""
            return "\(stream)\(shardName)\(where_): \(problem)"
        }
    }

    /// What the catalog alone shows: every shard placed, on as many replicas and zones as the members allow
    /// (fewer only while a move is under way).
    public static func check(catalog: Catalog) -> [Violation] {
        let zoneOf = Dictionary(catalog.members.map { ($0.id, $0.zone) }, uniquingKeysWith: { first, _ in first })
        let wanted = min(3, catalog.members.count)
        let wantedZones = min(wanted, Set(catalog.members.map(\.zone)).count)
        var found: [Violation] = []
        for stream in catalog.allStreams.sorted(by: { $0.id < $1.id }) {
            for shard in stream.shards {
                func report(_ problem: String) {
                    found.append(
                        Violation(
                            streamID: stream.id,
                            stream: stream.name,
                            shard: shard.index,
                            node: nil,
                            problem: problem
                        )
                    )
                }
                guard let replicas = shard.replicas else {
                    report("has no placement")
                    continue
                }
                guard shard.leaving == nil else { continue }
                let zones = Set(replicas.compactMap { zoneOf[$0] }).count
                if replicas.count != wanted || Set(replicas).count != replicas.count {
                    report("placed on \(replicas) but wants \(wanted) distinct members")
                } else if zones < wantedZones {
                    report("placed on \(replicas) in \(zones) zones but wants \(wantedZones)")
                }
            }
        }
        return found
    }

    /// What one node's groups show against the catalog: each group it holds has the placed voters (a subset of
    /// the old and new members while its shard moves, never this node alone when several are placed), no
    /// group is held that placement did not put here, and, once `settled`, every shard placed here is open.
    public static func check(catalog: Catalog, node: UInt64, groups: [GroupView], settled: Bool) -> [Violation] {
        var found: [Violation] = []
        var shards: [String: (stream: StreamMetadata, shards: [UInt32: ShardMetadata])] = [:]
        for stream in catalog.allStreams {
            shards[stream.id] = (
                stream, Dictionary(stream.shards.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
            )
        }
        var held: Set<String> = []
        for group in groups {
            held.insert("\(group.streamID)/\(group.shard)")
            // A group of a stream deleted a moment ago is being closed; nothing is served from it.
            guard let (stream, byIndex) = shards[group.streamID], let shard = byIndex[group.shard] else { continue }
            func report(_ problem: String) {
                found.append(
                    Violation(
                        streamID: stream.id,
                        stream: stream.name,
                        shard: shard.index,
                        node: node,
                        problem: problem
                    )
                )
            }
            guard let replicas = shard.replicas else {
                report("is open without a placement, voters \(group.voters)")
                continue
            }
            let placed = Set(replicas)
            let voters = Set(group.voters)
            if !placed.contains(node) && shard.leaving?.contains(node) != true {
                report("is held here but placed on \(replicas)")
            } else if let leaving = shard.leaving {
                let allowed = placed.union(leaving).union(shard.initialReplicas ?? [])
                if !voters.isSubset(of: allowed) {
                    report("has voters \(group.voters) while moving to \(replicas.sorted())")
                } else if replicas.count > 1 && voters == [node] && shard.healedFrom != node {
                    report("is led by this node alone while placed on \(replicas.sorted())")
                }
            } else if voters != placed && !voters.isEmpty {
                // An empty configuration is a copy that has not heard from its leader yet.
                report("has voters \(group.voters) but is placed on \(replicas.sorted())")
            }
        }
        if settled {
            for stream in catalog.allStreams {
                for shard in stream.shards where !held.contains("\(stream.id)/\(shard.index)") {
                    if case .open = ReplicaPlan.decide(shard, me: node, mode: .cluster) {
                        found.append(
                            Violation(
                                streamID: stream.id,
                                stream: stream.name,
                                shard: shard.index,
                                node: node,
                                problem: "is placed here but not open"
                            )
                        )
                    }
                }
            }
        }
        return found
    }

    /// Across nodes: every node holding a shard's group reports the same voters (unless the shard moves, when
    /// the nodes may be a configuration apart).
    public static func agreement(catalog: Catalog, views: [UInt64: [GroupView]]) -> [Violation] {
        var moving: Set<String> = []
        var names: [String: String] = [:]
        for stream in catalog.allStreams {
            names[stream.id] = stream.name
            for shard in stream.shards where shard.leaving != nil { moving.insert("\(stream.id)/\(shard.index)") }
        }
        var seen: [String: (group: GroupView, node: UInt64)] = [:]
        var found: [Violation] = []
        for node in views.keys.sorted() {
            for group in views[node] ?? [] where names[group.streamID] != nil {
                let key = "\(group.streamID)/\(group.shard)"
                guard !moving.contains(key), !group.voters.isEmpty else { continue }
                if let first = seen[key] {
                    if first.group.voters != group.voters {
                        found.append(
                            Violation(
                                streamID: group.streamID,
                                stream: names[group.streamID] ?? "",
                                shard: group.shard,
                                node: node,
                                problem: "has voters \(group.voters) but node \(first.node) has \(first.group.voters)"
                            )
                        )
                    }
                } else {
                    seen[key] = (group, node)
                }
            }
        }
        return found
    }
}
