/// Totals of write outcomes, and what became of the indeterminate ones.
public struct WriteCounts: Sendable, Equatable, Codable {
    public var acknowledged = 0
    /// Definite failures (`fail`).
    public var failed = 0
    /// Indeterminate outcomes (`info`), split below by whether any read returned the record.
    public var indeterminate = 0
    public var indeterminateWritten = 0
    public var indeterminateNotWritten = 0
    /// Failures (definite and indeterminate) by error code.
    public var errors: [String: Int] = [:]
    /// Records sent more than once (`rill chaos --retrying-writers`), and the attempts beyond the first.
    public var retried = 0
    public var retries = 0
    /// Records the final reads hold more than once; of those, `expectedDuplicates` were sent more than once by
    /// a writer without a producer id (Kinesis's at-least-once), the rest are the `duplicated` anomaly.
    public var storedMoreThanOnce = 0
    public var expectedDuplicates = 0

    public init() {}
}
