import Foundation
import RillChaos
import Testing

@Suite struct VerdictTests {
    private func brokenRun() -> Verdict {
        var run = cleanRun()
        run.consume(shard0, process: 100)
        run.logs[shard0]?.removeAll { $0.id == "a3" }
        run.finish(consume: false)
        return run.verdict()
    }

    @Test("the summary is an aligned table with a status per check and the failing examples")
    func summaryTable() {
        let table = brokenRun().summaryTable()
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "check                       count  status")
        let lostRow = lines.first { $0.hasPrefix("lost ") }
        #expect(lostRow == "lost                            1  FAIL")
        #expect(lines.contains("replica divergence              0  OK"))
        #expect(lines.contains("lagging replicas                1  note"))
        #expect(lines.contains("verdict: INVALID"))
        #expect(lines.contains("lost (1 of 1):"))
        #expect(
            lines.contains {
                $0.hasPrefix("  a3 acknowledged at shardId-000000000000@") && $0.hasSuffix("read, then gone")
            }
        )
        #expect(lines.contains { $0.hasPrefix("all shards ") })
        #expect(lines.contains { $0.hasPrefix("kill node-2 [") })
        #expect(!lines.contains { $0.hasSuffix(" ") }, "no trailing blanks")
        // Every row of the checks table puts its status in the same column.
        let statusColumns = Set(
            lines.prefix(12).dropFirst().map { $0.count - ($0.split(separator: " ").last?.count ?? 0) }
        )
        #expect(statusColumns.count == 1)
    }

    @Test("the verdict round-trips through JSON, with validity and fault counts readable by other tools")
    func json() throws {
        let verdict = brokenRun()
        let data = try verdict.jsonData()
        #expect(try JSONDecoder().decode(Verdict.self, from: data) == verdict)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["valid"] as? Bool == false)
        #expect(object["faults"] as? [String: Int] == ["kill": 1, "partition": 1])
        #expect((object["lost"] as? [String: Any])?["count"] as? Int == 1)
    }
}
