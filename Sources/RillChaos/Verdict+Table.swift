// MARK: - Summary for people

extension Verdict {
    /// An aligned plain-text report: one row per check with its count and status, write and fault totals,
    /// availability, then the examples of whatever failed.
    public func summaryTable() -> String {
        var sections = [checksTable(), writesTable(), availabilityTable()]
        let details = examples()
        if !details.isEmpty { sections.append(details) }
        if !notes.isEmpty { sections.append((["notes:"] + notes.map { "  " + $0 }).joined(separator: "\n")) }
        return sections.joined(separator: "\n\n") + "\n"
    }

    private var safetyRows: [(name: String, count: Int, examples: [String])] {
        [
            ("lost", lost.count, lost.examples.map(\.description)),
            ("vanished", vanished.count, vanished.examples.map(\.description)),
            ("duplicated", duplicated.count, duplicated.examples.map(\.description)),
            ("reordered", reordered.count, reordered.examples.map(\.description)),
            ("key order", keyOrder.count, keyOrder.examples.map(\.description)),
            ("sequence conflicts", sequenceConflicts.count, sequenceConflicts.examples.map(\.description)),
            (
                "acknowledgement mismatches", acknowledgementMismatches.count,
                acknowledgementMismatches.examples.map(\.description)
            ),
            ("skipped ranges", skipped.count, skipped.examples.map(\.description)),
            ("definite failures read", failedWritesRead.count, failedWritesRead.examples.map(\.description)),
            ("replica divergence", divergence.count, divergence.examples.map(\.description)),
            ("misplaced groups", misplaced.count, misplaced.examples.map(\.description)),
        ]
    }

    private var noteRows: [(name: String, count: Int, examples: [String])] {
        [
            ("lagging replicas", lagging.count, lagging.examples.map(\.description)),
            ("unexpected records", unexpected.count, unexpected.examples.map(\.description)),
        ]
    }

    private func checksTable() -> String {
        var table = TextTable([.left, .right, .left])
        table.add("check", "count", "status")
        for row in safetyRows { table.add(row.name, "\(row.count)", row.count == 0 ? "OK" : "FAIL") }
        for row in noteRows { table.add(row.name, "\(row.count)", row.count == 0 ? "OK" : "note") }
        return table.render() + "\n" + (valid ? "verdict: VALID" : "verdict: INVALID")
    }

    private func writesTable() -> String {
        var table = TextTable([.left, .right])
        table.add("writes", "count")
        table.add("acknowledged", "\(writes.acknowledged)")
        table.add("failed (definite)", "\(writes.failed)")
        table.add("indeterminate", "\(writes.indeterminate)")
        table.add("  written", "\(writes.indeterminateWritten)")
        table.add("  not written", "\(writes.indeterminateNotWritten)")
        for (code, count) in writes.errors.sorted(by: { $0.key < $1.key }) { table.add("  error \(code)", "\(count)") }
        table.add("retried records", "\(writes.retried)")
        table.add("  retries", "\(writes.retries)")
        table.add("stored more than once", "\(writes.storedMoreThanOnce)")
        table.add("  plain retries (expected)", "\(writes.expectedDuplicates)")
        table.add("faults started", "\(faults.values.reduce(0, +))")
        for (kind, count) in faults.sorted(by: { $0.key < $1.key }) { table.add("  \(kind)", "\(count)") }
        return table.render()
    }

    private func availabilityTable() -> String {
        var table = TextTable([.left, .right, .left])
        table.add("availability", "longest gap ms", "between (ms since start)")
        table.add("all shards", gapCells(availability.longestGap).0, gapCells(availability.longestGap).1)
        for shard in availability.shards {
            table.add(shard.shard, gapCells(shard.longestGap).0, gapCells(shard.longestGap).1)
        }
        for fault in availability.faults {
            let window = "\(Milliseconds(fault.start))–" + (fault.end.map { "\(Milliseconds($0))" } ?? "end")
            table.add(
                "\(fault.kind) \(fault.target) [\(window)]",
                gapCells(fault.longestGap).0,
                gapCells(fault.longestGap).1
            )
            if let shardGap = fault.longestShardGap {
                table.add("  worst shard \(shardGap.shard ?? "")", gapCells(shardGap).0, gapCells(shardGap).1)
            }
        }
        return table.render()
    }

    private func gapCells(_ gap: Availability.Gap?) -> (String, String) {
        guard let gap else { return ("-", "") }
        let span = "\(Milliseconds(gap.start))–\(Milliseconds(gap.end))" + (gap.recovered ? "" : " (not recovered)")
        return ("\(Milliseconds(gap.milliseconds))", span)
    }

    private func examples() -> String {
        var lines: [String] = []
        for row in safetyRows + noteRows where row.count > 0 {
            lines.append("\(row.name) (\(row.examples.count) of \(row.count)):")
            lines.append(contentsOf: row.examples.map { "  " + $0 })
        }
        return lines.joined(separator: "\n")
    }
}
