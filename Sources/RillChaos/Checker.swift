/// Checks a history against what a Kinesis stream promises, in the manner of Jepsen's checkers.
///
/// Pure: a function of the events alone, with no clock or file. The workload writes records with unique ids,
/// so every record a read returns has one write that explains it. A writer that never retries, or one that
/// retries as an idempotent producer, sends each record to be stored once, so every further copy the server
/// holds is one it made itself; copies of a plain writer's retries are counted, not reported. Safety checks (see `Verdict`) count anomalies and keep the
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
        var records = checkRecords(index)
        let finalReads = checkFinalReads(index)
        records.counts.storedMoreThanOnce = finalReads.storedMoreThanOnce
        records.counts.expectedDuplicates = finalReads.expectedDuplicates
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
