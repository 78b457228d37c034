import RillAPI
import RillKinesis
import RillModel

extension Node: SubscriptionSource {
    /// Starts a SubscribeToShard call: the consumers service validates it (errors here are ordinary HTTP
    /// errors) and hands it back to `subscribe(stream:shard:from:namespace:)` for the events.
    public func subscribe(_ request: APIRequest) async throws -> any EventSubscription {
        var r = try request.reader()
        let namespace = Namespace(
            account: configuration.accountID,
            region: request.signedRegion ?? configuration.defaultRegion
        )
        try authorize(request, r.body, namespace)
        return try await services.consumers.subscribe(&r, namespace, from: self)
    }

    /// The subscription to `shard` from `start`, reading this node's replica.
    func subscribe(
        stream: StreamMetadata,
        shard: ShardMetadata,
        from start: SubscriptionStart,
        namespace: Namespace
    ) async throws -> any EventSubscription {
        let replica = try await subscriptionReplica(stream: stream, shard: shard)
        let readable = NodeReadableShard(
            replica: replica,
            threadPool: threadPool,
            opener: recordKeys.opener(for: stream)
        )
        let position = try await services.records.startPosition(
            type: start.type,
            startingText: start.sequence,
            timestamp: start.timestamp,
            stream: stream,
            shard: shard,
            namespace: namespace,
            replica: { _, _ in readable }
        )
        // CloudWatch files enhanced fan-out metrics under the consumer's name (validated before this).
        let consumer: String
        if case .consumer(_, let name, _)? = ResourceARN(parsing: start.consumerARN) {
            consumer = name
        } else {
            consumer = start.consumerARN
        }
        // Last, so a call refused for any other reason holds nothing.
        let lease: SubscriptionLease
        do {
            lease = try subscriptionLeases.acquire(
                consumerARN: start.consumerARN,
                shard: shard.id.name,
                atMillis: clock.nowMillis()
            )
        } catch {
            metrics.subscribed(stream, consumer: consumer, admitted: false, atMillis: clock.nowMillis())
            throw error
        }
        metrics.subscribed(stream, consumer: consumer, admitted: true, atMillis: clock.nowMillis())
        return ShardSubscription(
            node: self,
            stream: stream,
            shard: shard,
            replica: replica,
            position: position,
            startedMillis: clock.nowMillis(),
            lease: lease,
            consumerName: consumer,
            pacer: services.throughput.fanOutPacer()
        )
    }

    /// A subscription reads this node's replica of the shard, leader or not (pushed records trail the leader by
    /// a heartbeat at most); a node without one sends the client to the shard's leader's API address.
    func subscriptionReplica(stream: StreamMetadata, shard: ShardMetadata) async throws -> ShardReplica {
        if cluster == nil { return try await replica(for: stream, shard: shard) }
        if let local = localReplica(streamID: stream.id, shard: shard.index) { return local }
        throw KinesisError.internalFailure(
            "This node holds no replica of \(shard.id.name); subscribe through a node that does (its replicas are nodes \(shard.replicas ?? []))."
        )
    }
}
