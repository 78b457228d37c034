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

    public init() {}
}
