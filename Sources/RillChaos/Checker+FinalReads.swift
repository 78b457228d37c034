// MARK: - Shape of the final reads

extension Checker {
    struct FinalReadFindings {
        var duplicated = Finding<Anomaly.Duplicate>()
        var reordered = Finding<Anomaly.Reordering>()
        /// Records the final reads hold more than once, expected or not.
        var storedMoreThanOnce = 0
        /// Of those, the ones a plain writer (no producer id) sent more than once: Kinesis is at-least-once.
        var expectedDuplicates = 0
    }

    /// Each id at most once across all final reads, and each shard in strictly increasing sequence order.
    ///
    /// A record that was sent once, or sent under an idempotent-producer id however often, must be stored once:
    /// a second copy is the server's doing. A record a plain writer sent several times may be stored as often
    /// as it was sent, as on Kinesis; those copies are counted, not reported.
    func checkFinalReads(_ index: HistoryIndex) -> FinalReadFindings {
        var findings = FinalReadFindings()
        for id in index.finalDuplicates {
            findings.storedMoreThanOnce += 1
            let positions = index.sightings[id]?.finalPositions.elements ?? []
            let write = index.writeOffsets[id].map { index.writes[$0] }
            if let write, write.producer == nil, let attempts = write.attempt, positions.count <= attempts {
                findings.expectedDuplicates += 1
                continue
            }
            findings.duplicated.record(
                Anomaly.Duplicate(
                    id: id,
                    positions: positions,
                    producer: write?.producer,
                    producerSequence: write?.producerSequence,
                    attempts: write?.attempt
                ),
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
