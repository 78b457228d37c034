import RillModel

/// One record as a producer made it, before aggregation or after de-aggregation: what the KPL calls a user record.
public struct KPLUserRecord: Sendable, Equatable {
    public var partitionKey: String
    public var explicitHashKey: String?
    public var data: [UInt8]

    public init(partitionKey: String, explicitHashKey: String? = nil, data: [UInt8]) {
        self.partitionKey = partitionKey
        self.explicitHashKey = explicitHashKey
        self.data = data
    }

    /// The hash key Kinesis routes this record by: its explicit hash key when that parses, else MD5 of its key.
    public var hashKey: HashKey {
        if let explicitHashKey, case .valid(let key) = HashKey.parse(explicitHashKey) { return key }
        return HashKey(partitionKey: partitionKey)
    }
}

/// The KPL aggregated record format (awslabs/amazon-kinesis-producer `aggregation-format.md`; the KCL's
/// `AggregatorUtil` and aws-kinesis-agg read it the same way). A Kinesis record's data is aggregated when it is
///
///     F3 89 9A C2 | AggregatedRecord (protobuf, KPLAggregation.proto) | MD5 of the protobuf bytes (16 bytes)
///
/// Each user record names its partition key (and optionally its explicit hash key) by index into the message's
/// tables. Consumers number the user records of one Kinesis record 0, 1, 2, …: the sub-sequence numbers.
public enum KPLAggregation {
    /// The four bytes every aggregated record starts with.
    public static let magic: [UInt8] = [0xF3, 0x89, 0x9A, 0xC2]
    /// The MD5 trailer's length.
    public static let digestBytes = 16
    /// Magic plus trailer: what an aggregate costs beyond its protobuf message.
    public static let overheadBytes = magic.count + digestBytes
    /// Kinesis' limit on a record's data plus partition key.
    public static let maxKinesisRecordBytes = 1 << 20
    /// The partition key of every aggregate of two or more records: the KPL routes aggregates by explicit hash key
    /// (the first user record's hash key), so the partition key only has to be short (`KinesisRecord::partition_key`).
    public static let aggregatePartitionKey = "a"
}
