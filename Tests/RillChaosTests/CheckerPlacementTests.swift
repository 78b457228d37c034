import RillChaos
import Testing

/// Three nodes in three zones, each holding both shards of stream `s1` with voters 1,2,3.
private func placedCluster() -> [PlacementEvent] {
    let members = [
        PlacementMember(id: 1, zone: "az-a"), PlacementMember(id: 2, zone: "az-b"),
        PlacementMember(id: 3, zone: "az-c"),
    ]
    return (1...3).map { id in
        PlacementEvent(
            time: 0,
            node: "node-\(id)",
            id: id,
            zone: members[id - 1].zone,
            members: members,
            groups: [shard0, shard1].map {
                PlacementGroup(stream: "s1", streamID: "id1", shard: $0, voters: [1, 2, 3])
            }
        )
    }
}

private func judge(_ reports: [PlacementEvent]) -> Verdict {
    var run = HistoryBuilder()
    for report in reports { run.placement(report) }
    return run.verdict()
}

@Suite struct CheckerPlacementTests {
    @Test("every group on three voters in three zones, held by each: valid")
    func placed() {
        let verdict = judge(placedCluster())
        #expect(verdict.valid)
        #expect(verdict.misplaced.isEmpty)
    }

    @Test("a history without placement reports has nothing to judge")
    func noReports() {
        #expect(judge([]).misplaced.isEmpty)
    }

    @Test("a sole-voter group on every node (three diverging copies) is a node alone, named per node")
    func nodeAlone() throws {
        var reports = placedCluster()
        for index in reports.indices {
            reports[index].groups[1].voters = [reports[index].id]
        }
        let verdict = judge(reports)
        #expect(!verdict.valid)
        #expect(violations(verdict) == ["misplaced": 4])
        let examples = verdict.misplaced.examples
        #expect(examples[0].problem.hasPrefix("voters differ: node-1 [1], node-2 [2], node-3 [3]"))
        #expect(examples.dropFirst().map(\.node) == ["node-1", "node-2", "node-3"])
        #expect(examples.dropFirst().allSatisfy { $0.problem.hasPrefix("a node alone") && $0.shard == shard1 })
        #expect(
            examples[1].description == "s1 \(shard1) on node-1 (voters 1): "
                + "a node alone: a sole-voter group in a cluster of 3 members"
        )
    }

    @Test("two voters in one zone while a third zone has a member, or too few voters, are findings")
    func zones() {
        var reports = placedCluster()
        for index in reports.indices {
            reports[index].members[1].zone = "az-a"
            reports[index].members.append(PlacementMember(id: 4, zone: "az-b"))
        }
        #expect(
            judge(reports).misplaced.examples.map(\.problem)
                == Array(repeating: "voters span 2 zones, wants 3", count: 2)
        )

        var short = placedCluster()
        for index in short.indices { short[index].groups[0].voters = [1, 2] }
        short[2].groups.removeFirst()
        #expect(judge(short).misplaced.examples.map(\.problem) == ["2 voters, wants 3"])
    }

    @Test("a voter that reported but holds no copy of its group is a finding")
    func voterWithoutCopy() throws {
        var reports = placedCluster()
        reports[1].groups.removeFirst()
        let verdict = judge(reports)
        let example = try #require(verdict.misplaced.examples.first)
        #expect(verdict.misplaced.count == 1)
        #expect(example.shard == shard0 && example.voters == [1, 2, 3])
        #expect(example.problem == "voter node-2 holds no copy")
    }

    @Test("a violation a node reports itself makes the verdict invalid, with that node's voters")
    func reportedViolation() throws {
        var reports = placedCluster()
        reports[2].violations = [
            PlacementViolation(
                stream: "s1",
                streamID: "id1",
                shard: shard1,
                node: 3,
                problem: "voters 1,2,3 not in catalog"
            )
        ]
        let verdict = judge(reports)
        let example = try #require(verdict.misplaced.examples.first)
        #expect(violations(verdict) == ["misplaced": 1])
        #expect(example.node == "node-3" && example.voters == [1, 2, 3])
        #expect(example.problem == "reported by the node: voters 1,2,3 not in catalog")
        #expect(verdict.summaryTable().contains("misplaced groups"))
    }

    @Test("only each node's last report counts: a problem that healed is not a finding")
    func lastReportCounts() {
        var broken = placedCluster()
        broken[0].groups[0].voters = [1]
        #expect(judge(broken + placedCluster()).valid)
    }
}
