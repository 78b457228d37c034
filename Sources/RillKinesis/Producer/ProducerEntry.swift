/// One Kinesis record a producer wants written: a user record, or a KPL aggregate of several.
public struct ProducerEntry: Sendable, Equatable {
    public var partitionKey: String
    public var explicitHashKey: String?
    public var data: [UInt8]
    /// Records with the same ordering key are written in the order they were added, each only after the one before
    /// it succeeded: the partition key for a user record, the predicted shard for an aggregate.
    public var orderingKey: String
    /// User records inside (1 unless it is an aggregate): what the summary counts.
    public var userRecords: Int

    public init(
        partitionKey: String,
        explicitHashKey: String? = nil,
        data: [UInt8],
        orderingKey: String? = nil,
        userRecords: Int = 1
    ) {
        self.partitionKey = partitionKey
        self.explicitHashKey = explicitHashKey
        self.data = data
        self.orderingKey = orderingKey ?? partitionKey
        self.userRecords = userRecords
    }

    /// What the record counts toward PutRecords' 5 MiB and the 1 MiB record limit: data plus partition key.
    public var sizeBytes: Int { data.count + partitionKey.utf8.count }
}
