import RillAPI
import RillKinesis
import RillModel

extension ConsumersService {
    /// Starts a SubscribeToShard call: validates it (errors here are ordinary HTTP errors) and returns the
    /// subscription `subscriptions` makes for its consumer's shard (the caller's replica of it).
    func subscribe(
        _ r: inout RequestReader,
        _ namespace: Namespace,
        from subscriptions: some SubscriptionSource
    ) async throws -> any EventSubscription {
        let consumerARN = try r.string("ConsumerARN", required: true, min: 1, max: 2048, pattern: .consumerARN)
        let shardText = try r.string("ShardId", required: true, min: 1, max: 128, pattern: .shardId)
        let start = try r.object("StartingPosition", required: true)
        var type: ShardIteratorType?
        var sequence: String?
        var timestamp: Int64?
        if let start {
            type = try r.enumeration(
                "Type",
                in: start,
                path: "startingPosition.type",
                required: true,
                as: ShardIteratorType.self
            )
            sequence = try r.string(
                "SequenceNumber",
                in: start,
                path: "startingPosition.sequenceNumber",
                pattern: .sequenceNumber
            )
            timestamp = try r.timestamp("Timestamp", in: start)
        }
        try r.finish()
        guard let consumerARN, let shardText, let type else { throw KinesisError(.validation, "missing members") }
        guard case .consumer(let arn, let consumerName, let created)? = ResourceARN(parsing: consumerARN) else {
            throw KinesisError(.invalidArgument, "Invalid ConsumerARN: \(consumerARN)")
        }
        let (stream, resolved) = try resolve(StreamSelector(name: arn.streamName, arn: arn), namespace)
        guard stream.consumers?.contains(where: { $0.name == consumerName && $0.createdSeconds == created }) == true
        else {
            throw KinesisError(.resourceNotFound, "Consumer \(consumerARN) not found.")
        }
        guard let shardID = ShardID(parsing: shardText), let shard = stream.shard(shardID) else {
            throw KinesisError.shardNotFound(shardText, stream: stream.name, account: resolved.account)
        }
        return try await subscriptions.subscribe(
            stream: stream,
            shard: shard,
            from: SubscriptionStart(consumerARN: consumerARN, type: type, sequence: sequence, timestamp: timestamp),
            namespace: resolved
        )
    }
}
