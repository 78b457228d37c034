import Foundation

/// What the checker concluded about a history: one `Finding` per check, totals and availability.
///
/// Saved as JSON next to the history; `summaryTable()` is the form for people.
public struct Verdict: Sendable, Equatable, Codable {
    /// False iff any safety check found something; notes and availability do not count.
    public let valid: Bool

    // Safety: each non-empty finding makes the history invalid.
    public let lost: Finding<Anomaly.Lost>
    public let vanished: Finding<Anomaly.Vanished>
    public let duplicated: Finding<Anomaly.Duplicate>
    public let reordered: Finding<Anomaly.Reordering>
    /// Records of one partition key read back against the order its writer sent them, across the lineage.
    public let keyOrder: Finding<Anomaly.KeyOrder>
    public let sequenceConflicts: Finding<Anomaly.SequenceConflict>
    public let acknowledgementMismatches: Finding<Anomaly.AcknowledgementMismatch>
    public let skipped: Finding<Anomaly.SkippedRange>
    public let failedWritesRead: Finding<Anomaly.FailedWriteRead>
    public let divergence: Finding<Anomaly.Divergence>
    /// Shard groups whose voters break the placement rules after healing (`Checker.checkPlacement`).
    public let misplaced: Finding<Anomaly.Misplacement>

    // Notes: worth a look, not violations.
    public let lagging: Finding<Anomaly.Lag>
    public let unexpected: Finding<Anomaly.Unexpected>
    /// Things about the history itself: shards without a final read, ids written twice, unmatched fault ends.
    public let notes: [String]

    public let writes: WriteCounts
    /// Faults started, by kind.
    public let faults: [FaultKind: Int]
    public let availability: Availability

    public init(
        lost: Finding<Anomaly.Lost> = .init(),
        vanished: Finding<Anomaly.Vanished> = .init(),
        duplicated: Finding<Anomaly.Duplicate> = .init(),
        reordered: Finding<Anomaly.Reordering> = .init(),
        keyOrder: Finding<Anomaly.KeyOrder> = .init(),
        sequenceConflicts: Finding<Anomaly.SequenceConflict> = .init(),
        acknowledgementMismatches: Finding<Anomaly.AcknowledgementMismatch> = .init(),
        skipped: Finding<Anomaly.SkippedRange> = .init(),
        failedWritesRead: Finding<Anomaly.FailedWriteRead> = .init(),
        divergence: Finding<Anomaly.Divergence> = .init(),
        misplaced: Finding<Anomaly.Misplacement> = .init(),
        lagging: Finding<Anomaly.Lag> = .init(),
        unexpected: Finding<Anomaly.Unexpected> = .init(),
        notes: [String] = [],
        writes: WriteCounts = .init(),
        faults: [FaultKind: Int] = [:],
        availability: Availability = .init()
    ) {
        self.lost = lost
        self.vanished = vanished
        self.duplicated = duplicated
        self.reordered = reordered
        self.keyOrder = keyOrder
        self.sequenceConflicts = sequenceConflicts
        self.acknowledgementMismatches = acknowledgementMismatches
        self.skipped = skipped
        self.failedWritesRead = failedWritesRead
        self.divergence = divergence
        self.misplaced = misplaced
        self.lagging = lagging
        self.unexpected = unexpected
        self.notes = notes
        self.writes = writes
        self.faults = faults
        self.availability = availability
        let safetyCounts = [
            lost.count, vanished.count, duplicated.count, reordered.count, keyOrder.count, sequenceConflicts.count,
            acknowledgementMismatches.count, skipped.count, failedWritesRead.count, divergence.count,
            misplaced.count,
        ]
        self.valid = safetyCounts.allSatisfy { $0 == 0 }
    }

    /// Pretty-printed JSON with sorted keys, to save beside the history.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
