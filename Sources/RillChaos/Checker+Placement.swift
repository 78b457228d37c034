// MARK: - Placement after healing

extension Checker {
    /// The placement promise behind "an acknowledged record is on a majority of zones", judged on every node's
    /// last `placement` report (the same rules as `rill status` and the cluster tests):
    ///
    /// 1. every shard group has the same voters on every node holding it;
    /// 2. min(3, members) voters, in as many distinct zones as the members allow; never a node alone;
    /// 3. every voter that reported holds a copy of the group;
    /// 4. no node reports a violation of its own.
    ///
    /// A history without placement reports (from before they existed) has nothing to judge.
    func checkPlacement(_ index: HistoryIndex) -> Finding<Anomaly.Misplacement> {
        checkPlacement(index.placementNodes.compactMap { index.placements[$0] })
    }

    /// The same rules over one report per node, as a run polls them until they hold.
    public func checkPlacement(_ reports: [PlacementEvent]) -> Finding<Anomaly.Misplacement> {
        var finding = Finding<Anomaly.Misplacement>()
        guard !reports.isEmpty else { return finding }
        func record(_ problem: Anomaly.Misplacement) { finding.record(problem, limit: exampleLimit) }

        var zoneOf: [Int: String] = [:]
        for report in reports {
            for member in report.members { zoneOf[member.id] = member.zone }
            if let zone = report.zone { zoneOf[report.id] = zone }
        }
        let wanted = min(3, zoneOf.count)
        let wantedZones = min(wanted, Set(zoneOf.values).count)
        let reported = Set(reports.map(\.id))
        let nameOf = Dictionary(reports.map { ($0.id, $0.node) }, uniquingKeysWith: { first, _ in first })

        struct GroupKey: Hashable {
            var streamID: String
            var shard: String
        }
        var holders: [GroupKey: [(report: PlacementEvent, group: PlacementGroup)]] = [:]
        var order: [GroupKey] = []
        for report in reports {
            for group in report.groups {
                let key = GroupKey(streamID: group.streamID, shard: group.shard)
                if holders[key] == nil { order.append(key) }
                holders[key, default: []].append((report, group))
            }
        }
        for key in order {
            let copies = holders[key] ?? []
            guard let first = copies.first else { continue }
            let stream = first.group.stream
            if copies.contains(where: { $0.group.voters != first.group.voters }) {
                let views = copies.map { "\($0.report.node) [\(ids($0.group.voters))]" }.joined(separator: ", ")
                record(
                    Anomaly.Misplacement(
                        stream: stream,
                        shard: key.shard,
                        node: nil,
                        voters: [],
                        problem: "voters differ: \(views)"
                    )
                )
            }
            // Each distinct configuration once, named by the first node holding it.
            var judged: [[Int]] = []
            for (report, group) in copies where !judged.contains(group.voters) {
                judged.append(group.voters)
                let voters = group.voters
                func misplaced(_ problem: String) {
                    record(
                        Anomaly.Misplacement(
                            stream: stream,
                            shard: key.shard,
                            node: report.node,
                            voters: voters,
                            problem: problem
                        )
                    )
                }
                let zones = Set(voters.compactMap { zoneOf[$0] })
                if voters.count == 1, wanted > 1 {
                    misplaced("a node alone: a sole-voter group in a cluster of \(zoneOf.count) members")
                } else if voters.count != wanted {
                    misplaced("\(voters.count) voters, wants \(wanted)")
                } else if zones.count < wantedZones {
                    misplaced("voters span \(zones.count) zones, wants \(wantedZones)")
                }
                let holding = Set(copies.map(\.report.id))
                for voter in voters where reported.contains(voter) && !holding.contains(voter) {
                    misplaced("voter \(nameOf[voter] ?? "node-\(voter)") holds no copy")
                }
            }
        }
        for report in reports {
            for violation in report.violations {
                let voters =
                    report.groups.first { $0.streamID == violation.streamID && $0.shard == violation.shard }?.voters
                    ?? []
                record(
                    Anomaly.Misplacement(
                        stream: violation.stream,
                        shard: violation.shard,
                        node: report.node,
                        voters: voters,
                        problem: "reported by the node: \(violation.problem)"
                    )
                )
            }
        }
        return finding
    }
}
