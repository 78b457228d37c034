// MARK: - What became of each write

extension Checker {
    struct RecordFindings {
        var lost = Finding<Anomaly.Lost>()
        var vanished = Finding<Anomaly.Vanished>()
        var mismatches = Finding<Anomaly.AcknowledgementMismatch>()
        var failedWritesRead = Finding<Anomaly.FailedWriteRead>()
        var unexpected = Finding<Anomaly.Unexpected>()
        var counts = WriteCounts()
        /// Acknowledged positions no read confirmed, for the conflict check (the rest it sees through reads).
        var unconfirmedAcknowledgements: [(id: String, position: RecordPosition)] = []
    }

    /// Follows every write to the reads: acknowledged ones must be in the final read where the server said,
    /// definite failures must never be read, and indeterminate ones may go either way but must not vanish.
    func checkRecords(_ index: HistoryIndex) -> RecordFindings {
        var findings = RecordFindings()
        var readIDsWritten = 0
        findings.counts.retries = index.retries
        for write in index.writes {
            let sightings = index.sightings[write.id]
            let readAt = sightings?.positions ?? InlineList()
            let inFinalRead = sightings?.finalPositions.isEmpty == false
            if sightings != nil { readIDsWritten += 1 }
            if let error = write.error, write.outcome != .ok { findings.counts.errors[error, default: 0] += 1 }
            if write.isRetry { findings.counts.retried += 1 }
            switch write.outcome {
            case .ok:
                findings.counts.acknowledged += 1
                guard let acknowledged = write.acknowledgedPosition else { continue }
                if !inFinalRead {
                    findings.lost.record(
                        Anomaly.Lost(
                            id: write.id,
                            acknowledged: acknowledged,
                            acknowledgedAt: write.time,
                            wasRead: !readAt.isEmpty
                        ),
                        limit: exampleLimit
                    )
                }
                if !readAt.contains(acknowledged) {
                    findings.unconfirmedAcknowledgements.append((write.id, acknowledged))
                    if !readAt.isEmpty {
                        findings.mismatches.record(
                            Anomaly.AcknowledgementMismatch(
                                id: write.id,
                                acknowledged: acknowledged,
                                readAt: readAt.elements
                            ),
                            limit: exampleLimit
                        )
                    }
                }
            case .fail:
                findings.counts.failed += 1
                if !readAt.isEmpty {
                    findings.failedWritesRead.record(
                        Anomaly.FailedWriteRead(id: write.id, error: write.error, readAt: readAt.elements),
                        limit: exampleLimit
                    )
                }
            case .info:
                findings.counts.indeterminate += 1
                if readAt.isEmpty {
                    findings.counts.indeterminateNotWritten += 1
                } else {
                    findings.counts.indeterminateWritten += 1
                    // Once a consumer saw it, it was committed: dropping it later is loss, acknowledged or not.
                    if !inFinalRead {
                        findings.vanished.record(
                            Anomaly.Vanished(id: write.id, readAt: readAt.elements),
                            limit: exampleLimit
                        )
                    }
                }
            }
        }
        // Usually every id read was written; only then is it worth finding the ones that were not.
        if readIDsWritten < index.readIDs.count {
            let written = Set(index.writes.map(\.id))
            for id in index.readIDs where !written.contains(id) {
                findings.unexpected.record(
                    Anomaly.Unexpected(id: id, readAt: index.sightings[id]?.positions.elements ?? []),
                    limit: exampleLimit
                )
            }
        }
        return findings
    }
}
