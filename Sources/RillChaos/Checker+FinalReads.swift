// MARK: - Shape of the final reads

extension Checker {
    struct FinalReadFindings {
        var duplicated = Finding<Anomaly.Duplicate>()
        var reordered = Finding<Anomaly.Reordering>()
    }

    /// Each id at most once across all final reads, and each shard in strictly increasing sequence order.
    func checkFinalReads(_ index: HistoryIndex) -> FinalReadFindings {
        var findings = FinalReadFindings()
        for id in index.finalDuplicates {
            findings.duplicated.record(
                Anomaly.Duplicate(id: id, positions: index.sightings[id]?.finalPositions.elements ?? []),
                limit: exampleLimit
            )
        }
        for shard in index.finalShards {
            let records = index.finalReads[shard] ?? []
            for (offset, record) in records.enumerated() {
                if offset > 0, !(records[offset - 1].sequence < record.sequence) {
                    findings.reordered.record(
                        Anomaly.Reordering(shard: shard, offset: offset, first: records[offset - 1], second: record),
                        limit: exampleLimit
                    )
                }
            }
        }
        return findings
    }
}
