import Foundation
import RillChaos

/// What a finished run found: the checker's verdict, and what the harness saw along the way.
public struct ChaosOutcome: Sendable {
    public var verdict: Verdict
    /// One line per injected fault, with its recovery times.
    public var faults: [String]
    /// Set if the cluster did not become whole after a fault and the nemesis stopped early.
    public var unhealthy: String?
    /// Set if replicas still differed when the convergence deadline passed.
    public var divergence: String?
    public var convergedAfter: Duration?
    /// Node processes that exited on their own.
    public var crashes: [String] = []
    public var attemptedRecords: Int
    public var acknowledgedRecords: Int
    public var writeCalls: Int
    public var consumerPages: Int
    public var consumerRecords: Int
    public var finalRecords: Int
    public var historyEvents: Int
    /// What the catalog churn did, one line each; nil without `--churn`.
    public var churn: [String]?
    /// How the placement check after healing went, in one line.
    public var placement: String?
    /// From cluster start to the end of the check.
    public var runTime: Duration = .zero

    /// 0 when the history is valid and the cluster behaved; 1 for an invalid verdict; 3 when the verdict is
    /// valid but a node crashed on its own or the cluster stopped recovering (liveness, not safety).
    public var exitCode: Int32 {
        if !verdict.valid { return 1 }
        if !crashes.isEmpty || unhealthy != nil { return 3 }
        return 0
    }

    /// The report for people: the run's figures, each fault, then the checker's table.
    public func summary(configuration: ChaosConfiguration) -> String {
        var lines: [String] = []
        let kinds = verdict.faults.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines.append("run")
        lines.append("  seed                \(configuration.seed)")
        lines.append("  time                \(Int(configuration.duration)) s of faults, \(Seconds(runTime)) in all")
        lines.append("  faults injected     \(verdict.faults.values.reduce(0, +)) (\(kinds))")
        lines.append(
            "  records written     \(acknowledgedRecords) acknowledged of \(attemptedRecords) in \(writeCalls) calls"
        )
        lines.append("  consumers read      \(consumerRecords) records in \(consumerPages) pages")
        lines.append("  final read          \(finalRecords) records")
        lines.append("  history events      \(historyEvents)")
        lines.append(
            "  replicas            "
                + (convergedAfter.map { "converged \(Seconds($0)) after the workload stopped" }
                    ?? "did not converge: \(divergence ?? "?")")
        )
        if let placement { lines.append("  placement check     \(placement)") }
        for (offset, line) in (churn ?? []).enumerated() {
            lines.append((offset == 0 ? "  catalog churn       " : "                      ") + line)
        }
        if let unhealthy { lines.append("  NEMESIS STOPPED     \(unhealthy)") }
        for crash in crashes { lines.append("  CRASH               \(crash)") }
        lines.append("")
        lines.append("faults")
        lines.append(contentsOf: faults.map { "  " + $0 })
        lines.append("")
        return lines.joined(separator: "\n") + "\n" + verdict.summaryTable()
    }
}

extension ChaosOutcome {
    /// The summary lines of the catalog churn: streams, records, calls by outcome.
    static func describe(_ report: StreamChurn.Report, finalRecords: Int) -> [String] {
        func list(_ counts: [String: Int]) -> String {
            counts.isEmpty
                ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        let deleted = report.streams.filter(\.deleted).count
        return [
            "\(report.streams.count) streams (\(report.kept.count) kept and read back, \(deleted) deleted), first "
                + "created at " + (report.firstCreated.map { "\(Seconds(milliseconds: $0))" } ?? "never"),
            "\(report.recordsAcknowledged) of \(report.recordsAttempted) records acknowledged, \(finalRecords) read back",
            "ok: \(list(report.succeeded))",
            "retried: \(list(report.retried))",
            "refused: \(list(report.refused))",
        ]
    }
}

extension ChaosRun {
    /// Writes `verdict.json` and `summary.txt` beside the history.
    func write(_ outcome: ChaosOutcome, to out: URL) throws(ChaosError) {
        do {
            try outcome.verdict.jsonData().write(to: out.appendingPathComponent("verdict.json"))
            try Data(outcome.summary(configuration: configuration).utf8)
                .write(to: out.appendingPathComponent("summary.txt"))
        } catch {
            throw .harness("cannot write the verdict to \(out.path): \(error)")
        }
    }
}
