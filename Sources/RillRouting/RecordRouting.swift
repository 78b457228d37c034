import RillKinesis
import RillModel

/// How a record of PutRecord or PutRecords finds its shard, and the limits of a PutRecords as a whole: the
/// one place node and router both take them from.
public enum RecordRouting {
    /// At most this many records in one PutRecords.
    public static let maxRecords = 500
    /// At most this many bytes of data and partition keys in one PutRecords.
    public static let maxRequestBytes = 10 << 20
    /// Partition keys are 1 to 256 characters (UTF-16 code units, as the model counts them).
    public static let partitionKeyLengths = 1...256

    /// The hash key a record is routed by: its ExplicitHashKey when it has one, else the MD5 of its partition
    /// key. Throws InvalidArgument, with Kinesis' message, for an ExplicitHashKey outside `[0, 2^128 - 1]`.
    public static func hashKey(partitionKey: String, explicitHashKey: String?) throws(KinesisError) -> HashKey {
        guard let explicitHashKey else { return HashKey(partitionKey: partitionKey) }
        return try parse(explicitHashKey: explicitHashKey)
    }

    /// The same, with the partition key as the UTF-8 bytes that stand in a request body.
    public static func hashKey(
        partitionKeyUTF8: ArraySlice<UInt8>,
        explicitHashKey: String?
    ) throws(KinesisError) -> HashKey {
        guard let explicitHashKey else { return HashKey(partitionKeyUTF8: partitionKeyUTF8) }
        return try parse(explicitHashKey: explicitHashKey)
    }

    private static func parse(explicitHashKey: String) throws(KinesisError) -> HashKey {
        switch HashKey.parse(explicitHashKey) {
        case .valid(let key): return key
        case .outOfRange, .malformed:
            throw KinesisError(
                .invalidArgument,
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was \(explicitHashKey)"
            )
        }
    }
}
