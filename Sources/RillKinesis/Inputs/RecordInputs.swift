/// Iterator types of GetShardIterator (and a SubscribeToShard's StartingPosition).
public enum ShardIteratorType: String, CaseIterable, Sendable {
    case atSequenceNumber = "AT_SEQUENCE_NUMBER"
    case afterSequenceNumber = "AFTER_SEQUENCE_NUMBER"
    case trimHorizon = "TRIM_HORIZON"
    case latest = "LATEST"
    case atTimestamp = "AT_TIMESTAMP"
}

/// A PutRecord request, read and checked as the model says (types, lengths, patterns; coral's
/// ValidationException lists every violation). What needs the stream (its record size, its shards) is the
/// records service's to check.
public struct PutRecordInput: Sendable {
    public var data: [UInt8]
    public var partitionKey: String
    public var explicitHashKey: String?
    public var sequenceNumberForOrdering: String?
    public var selector: StreamSelector

    public init(reading r: inout RequestReader) throws(KinesisError) {
        let data = try r.blob("Data", required: true, max: 10_485_760)
        let partitionKey = try r.string("PartitionKey", required: true, min: 1, max: 256)
        let explicitHashKey = try r.string("ExplicitHashKey", pattern: .hashKey)
        let ordering = try r.string("SequenceNumberForOrdering", pattern: .sequenceNumber)
        let selector = try r.requireStream()
        guard let data, let partitionKey else { throw KinesisError(.validation, "Data and PartitionKey are required") }
        self.data = data
        self.partitionKey = partitionKey
        self.explicitHashKey = explicitHashKey
        self.sequenceNumberForOrdering = ordering
        self.selector = selector
    }
}

/// A GetShardIterator request, read and checked as the model says. Which members an iterator type needs
/// (a sequence number, a timestamp) is the records service's rule, with AWS's messages.
public struct GetShardIteratorInput: Sendable {
    public var shardID: String
    public var type: ShardIteratorType
    public var startingSequenceNumber: String?
    public var timestamp: Int64?
    public var selector: StreamSelector

    public init(reading r: inout RequestReader) throws(KinesisError) {
        let shardText = try r.string("ShardId", required: true, min: 1, max: 128, pattern: .shardId)
        let type = try r.enumeration("ShardIteratorType", required: true, as: ShardIteratorType.self)
        let startingText = try r.string("StartingSequenceNumber", pattern: .sequenceNumber)
        let timestamp = try r.timestamp("Timestamp")
        let selector = try r.requireStream()
        guard let shardText, let type else { throw KinesisError(.validation, "ShardId is required") }
        self.shardID = shardText
        self.type = type
        self.startingSequenceNumber = startingText
        self.timestamp = timestamp
        self.selector = selector
    }
}

/// A GetRecords request, read and checked as the model says; no member is left unread.
public struct GetRecordsInput: Sendable {
    public var shardIterator: String
    /// At most this many records (1 to 10,000; 10,000 when not given).
    public var limit: Int

    public init(reading r: inout RequestReader) throws(KinesisError) {
        let token = try r.string("ShardIterator", required: true, min: 1, max: 512)
        let limit = Int(try r.integer("Limit", min: 1, max: 10_000) ?? 10_000)
        _ = try r.string("StreamARN", min: 1, max: 2048, pattern: .streamARN)
        try r.finish()
        // `required` has recorded the violation and `finish` thrown it; this only satisfies the type.
        guard let token else { throw KinesisError(.validation, "ShardIterator is required") }
        self.shardIterator = token
        self.limit = limit
    }
}
