/// Every operation of Kinesis_20131202, and Rill's consumer-group operations (`RillConsumerGroups_20261206`,
/// docs/consumers.md), parsed once from `X-Amz-Target`. Both families share the dispatch, the signature check,
/// the authorizer and the forwarder; only the target prefix tells them apart.
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

    // MARK: - Consumer groups (Rill's own API, under `groupTargetPrefix`)

    case createConsumerGroup = "CreateConsumerGroup"
    case deleteConsumerGroup = "DeleteConsumerGroup"
    case listConsumerGroups = "ListConsumerGroups"
    case describeConsumerGroup = "DescribeConsumerGroup"
    case acquireLeases = "AcquireLeases"
    case renewLease = "RenewLease"
    case releaseLease = "ReleaseLease"
    case checkpoint = "Checkpoint"

    public static let targetPrefix = "Kinesis_20131202."
    /// The consumer-group operations' prefix: a name of its own, so no Kinesis client can reach them by mistake.
    public static let groupTargetPrefix = "RillConsumerGroups_20261206."

    /// Whether this is one of Rill's consumer-group operations rather than a Kinesis one.
    public var isConsumerGroupOperation: Bool {
        switch self {
        case .createConsumerGroup, .deleteConsumerGroup, .listConsumerGroups, .describeConsumerGroup, .acquireLeases,
            .renewLease, .releaseLease, .checkpoint:
            true
        default: false
        }
    }

    /// The `X-Amz-Target` value that names this operation.
    public var target: String {
        (isConsumerGroupOperation ? Self.groupTargetPrefix : Self.targetPrefix) + rawValue
    }

    /// Parses an `X-Amz-Target` header value; nil for a missing prefix, an unknown name, or a name under the
    /// other family's prefix.
    public init?(target: String) {
        guard let operation = Self.byTarget[target] else { return nil }
        self = operation
    }

    /// Every operation by its whole target: one hash lookup per request instead of prefix checks and a linear
    /// search of the names.
    private static let byTarget = Dictionary(uniqueKeysWithValues: allCases.map { ($0.target, $0) })
}
