/// Where a record sits: its shard and its sequence number there.
public struct RecordPosition: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The Kinesis shard id, e.g. `shardId-000000000001`; for a stream other than the one under test,
    /// prefixed with the stream's name (see `shardKey(stream:shard:)`).
    public var shard: String
    public var sequence: DecimalSequenceNumber

    public init(shard: String, sequence: DecimalSequenceNumber) {
        self.shard = shard
        self.sequence = sequence
    }

    public var description: String { "\(shard)@\(sequence)" }

    /// How the checker names a shard: the bare shard id for the stream under test (so histories from before
    /// other streams existed read as they did), `stream/shardId` for any other stream, whose shard ids repeat.
    public static func shardKey(stream: String?, shard: String) -> String {
        stream.map { "\($0)/\(shard)" } ?? shard
    }

    /// Hashes the sequence number alone: Kinesis numbers carry their shard, so the name would only add a
    /// second string to hash on the checker's hottest path.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(sequence)
    }

    public static func < (lhs: RecordPosition, rhs: RecordPosition) -> Bool {
        lhs.shard != rhs.shard ? lhs.shard < rhs.shard : lhs.sequence < rhs.sequence
    }
}
