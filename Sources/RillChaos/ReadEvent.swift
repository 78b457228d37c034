/// One GetRecords page a consumer received, or the whole final read of a shard.
public struct ReadEvent: Sendable, Equatable {
    /// Milliseconds since the run started, when the page arrived.
    public var time: Double
    /// The consumer; its pages of one shard are recorded in the order it read them.
    public var process: Int
    public var shard: String
    /// Whether this is (part of) the final read done after healing; a shard's final reads are taken in history
    /// order and concatenated, so a final read may be one event or its pages in order.
    public var isFinal: Bool
    /// The records in the order the server returned them.
    public var records: [ReadRecord]
    /// Set on the first page of a new iterator only: the sequence number it started at (or after), or a
    /// position name such as `TRIM_HORIZON`. Nil on pages read with `NextShardIterator`; the skip check
    /// relies on that.
    public var from: String?
    /// The stream read when it is not the stream under test (the catalog churn's streams); nil for it.
    public var stream: String?

    public init(
        time: Double,
        process: Int,
        shard: String,
        isFinal: Bool,
        records: [ReadRecord],
        from: String? = nil,
        stream: String? = nil
    ) {
        self.time = time
        self.process = process
        self.shard = shard
        self.isFinal = isFinal
        self.records = records
        self.from = from
        self.stream = stream
    }

    /// The shard as the checker keys it: qualified by its stream unless it belongs to the stream under test.
    public var shardKey: String { RecordPosition.shardKey(stream: stream, shard: shard) }
}

/// A record as a read returned it.
public struct ReadRecord: Sendable, Equatable, Codable {
    public var id: String
    public var sequence: DecimalSequenceNumber

    public init(id: String, sequence: DecimalSequenceNumber) {
        self.id = id
        self.sequence = sequence
    }
}

// MARK: - Codable

extension ReadEvent: Codable {
    enum CodingKeys: String, CodingKey {
        case time, process, shard, records, from, stream
        case isFinal = "final"
    }
}
