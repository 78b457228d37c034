/// Checks a history against what a Kinesis stream promises, in the manner of Jepsen's checkers.
///
/// Pure: a function of the events alone, with no clock or file. The workload writes records with unique ids
/// and never retries, so every copy of a record the server holds is one it made itself, and every record a
/// read returns has one write that explains it. Safety checks (see `Verdict`) count anomalies and keep the
/// first `exampleLimit` of each; availability is measured, not judged.
public struct Checker: Sendable {
    /// How many occurrences of each anomaly a verdict keeps as examples.
    public var exampleLimit: Int

    public init(exampleLimit: Int = 10) {
        self.exampleLimit = exampleLimit
    }

    public func check(_ history: History) -> Verdict {
        check(history.events)
    }

    public func check(_ events: [HistoryEvent]) -> Verdict {
        let index = HistoryIndex(events)
        let records = checkRecords(index)
        let finalReads = checkFinalReads(index)
        let replicas = checkReplicas(index)
        let (availability, faults, faultNotes) = measureAvailability(index)
        return Verdict(
            lost: records.lost,
            vanished: records.vanished,
            duplicated: finalReads.duplicated,
            reordered: finalReads.reordered,
            keyOrder: checkKeyOrder(index),
            sequenceConflicts: checkSequenceConflicts(index, acknowledgements: records.unconfirmedAcknowledgements),
            acknowledgementMismatches: records.mismatches,
            skipped: checkSkips(index),
            failedWritesRead: records.failedWritesRead,
            divergence: replicas.divergence,
            misplaced: checkPlacement(index),
            lagging: replicas.lagging,
            unexpected: records.unexpected,
            notes: index.notes + faultNotes,
            writes: records.counts,
            faults: faults,
            availability: availability
        )
    }
}
