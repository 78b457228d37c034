/// Every operation of Kinesis_20131202, parsed once from `X-Amz-Target`.
public enum KinesisOperation: String, Sendable, CaseIterable {
    case addTagsToStream = "AddTagsToStream"
    case createStream = "CreateStream"
    case decreaseStreamRetentionPeriod = "DecreaseStreamRetentionPeriod"
    case deleteResourcePolicy = "DeleteResourcePolicy"
    case deleteStream = "DeleteStream"
    case deregisterStreamConsumer = "DeregisterStreamConsumer"
    case describeAccountSettings = "DescribeAccountSettings"
    case describeLimits = "DescribeLimits"
    case describeStream = "DescribeStream"
    case describeStreamConsumer = "DescribeStreamConsumer"
    case describeStreamSummary = "DescribeStreamSummary"
    case disableEnhancedMonitoring = "DisableEnhancedMonitoring"
    case enableEnhancedMonitoring = "EnableEnhancedMonitoring"
    case getRecords = "GetRecords"
    case getResourcePolicy = "GetResourcePolicy"
    case getShardIterator = "GetShardIterator"
    case increaseStreamRetentionPeriod = "IncreaseStreamRetentionPeriod"
    case listShards = "ListShards"
    case listStreamConsumers = "ListStreamConsumers"
    case listStreams = "ListStreams"
    case listTagsForResource = "ListTagsForResource"
    case listTagsForStream = "ListTagsForStream"
    case mergeShards = "MergeShards"
    case putRecord = "PutRecord"
    case putRecords = "PutRecords"
    case putResourcePolicy = "PutResourcePolicy"
    case registerStreamConsumer = "RegisterStreamConsumer"
    case removeTagsFromStream = "RemoveTagsFromStream"
    case splitShard = "SplitShard"
    case startStreamEncryption = "StartStreamEncryption"
    case stopStreamEncryption = "StopStreamEncryption"
    case subscribeToShard = "SubscribeToShard"
    case tagResource = "TagResource"
    case untagResource = "UntagResource"
    case updateAccountSettings = "UpdateAccountSettings"
    case updateMaxRecordSize = "UpdateMaxRecordSize"
    case updateShardCount = "UpdateShardCount"
    case updateStreamMode = "UpdateStreamMode"
    case updateStreamWarmThroughput = "UpdateStreamWarmThroughput"

    public static let targetPrefix = "Kinesis_20131202."

    /// Parses an `X-Amz-Target` header value; nil for a missing prefix or an unknown name.
    public init?(target: String) {
        guard target.hasPrefix(Self.targetPrefix) else { return nil }
        self.init(rawValue: String(target.dropFirst(Self.targetPrefix.count)))
    }
}
