import RillAPI
import RillKinesis
import RillModel

/// Enhanced fan-out consumers: RegisterStreamConsumer, DescribeStreamConsumer, ListStreamConsumers,
/// DeregisterStreamConsumer, and SubscribeToShard up to the hand-off: the call is validated and its consumer
/// and shard found here; the events come from a `SubscriptionSource` (the node's replica of the shard).
struct ConsumersService: CatalogService {
    let metadata: any CatalogView
    let proposer: any MetadataProposer
    /// Consumer creation times and page tokens.
    let clock: any WallClock
}

/// Where a SubscribeToShard starts, as its StartingPosition says.
struct SubscriptionStart: Sendable {
    /// One subscription per consumer and shard at a time (`SubscriptionLeases`).
    var consumerARN: String
    var type: ShardIteratorType
    var sequence: String?
    var timestamp: Int64?
}

/// What serves the events of a validated SubscribeToShard.
protocol SubscriptionSource: Sendable {
    func subscribe(
        stream: StreamMetadata,
        shard: ShardMetadata,
        from start: SubscriptionStart,
        namespace: Namespace
    ) async throws -> any EventSubscription
}
