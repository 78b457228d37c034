/// Where a record sits: its shard and its sequence number there.
public struct RecordPosition: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The Kinesis shard id, e.g. `shardId-000000000001`.
    public var shard: String
    public var sequence: DecimalSequenceNumber

    public init(shard: String, sequence: DecimalSequenceNumber) {
        self.shard = shard
        self.sequence = sequence
    }

    public var description: String { "\(shard)@\(sequence)" }

    /// Hashes the sequence number alone: Kinesis numbers carry their shard, so the name would only add a
    /// second string to hash on the checker's hottest path.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(sequence)
    }

    public static func < (lhs: RecordPosition, rhs: RecordPosition) -> Bool {
        lhs.shard != rhs.shard ? lhs.shard < rhs.shard : lhs.sequence < rhs.sequence
    }
}
