import Logging
import NIOPosix
import RillAPI
import RillKinesis
import RillModel

/// A node's services, one per family, and what they share; `serve` sends each operation to its family.
struct NodeServices: Sendable {
    /// The catalog as services read it, and how they change it.
    let catalog: StoreCatalogView
    let proposer: StoreProposer
    let tags: TagsService
    let settings: SettingsService
    let consumers: ConsumersService
    let groups: ConsumerGroupsService
    let streams: StreamsService
    let records: RecordsService
    /// Throughput limits of provisioned shards, for writes and reads.
    let throughput: ThroughputLimiter

    /// The services over `metadata`; what they need of the node's shard copies goes through `host` and
    /// `leaders`.
    init(
        metadata: MetadataStore,
        configuration: NodeConfiguration,
        clock: any WallClock,
        metrics: NodeMetrics,
        logger: Logger,
        recordKeys: RecordKeys,
        host: ReplicaHost,
        leaders: ShardLeaders,
        threadPool: NIOThreadPool
    ) {
        catalog = StoreCatalogView(store: metadata, accountID: configuration.accountID)
        proposer = StoreProposer(store: metadata, clock: clock)
        tags = TagsService(metadata: catalog, proposer: proposer)
        settings = SettingsService(metadata: catalog, proposer: proposer, clock: clock, recordKeys: recordKeys)
        consumers = ConsumersService(metadata: catalog, proposer: proposer, clock: clock)
        groups = ConsumerGroupsService(metadata: catalog, proposer: proposer, clock: clock)
        throughput = ThroughputLimiter(enabled: configuration.throughputLimits, clock: clock, metrics: metrics)
        records = RecordsService(
            metadata: catalog,
            appender: NodeShardAppender(leaders: leaders),
            readers: NodeShardReaders(leaders: leaders, threadPool: threadPool, recordKeys: recordKeys),
            throughput: throughput,
            shardMaps: ShardMapCache(),
            clock: clock,
            metrics: metrics
        )
        streams = StreamsService(
            metadata: catalog,
            proposer: proposer,
            replicas: NodeReplicaLifecycle(host: host, leaders: leaders),
            clock: clock,
            metrics: metrics,
            logger: logger
        )
    }

    /// Serves one authorized call with the service of its family.
    func serve(_ request: APIRequest, _ reader: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse
    {
        switch request.operation {
        case .createStream: return try await streams.createStream(&reader, namespace)
        case .deleteStream: return try await streams.deleteStream(&reader, namespace)
        case .listStreams: return try streams.listStreams(&reader, namespace)
        case .describeStream: return try streams.describeStream(&reader, namespace)
        case .describeStreamSummary: return try streams.describeStreamSummary(&reader, namespace)
        case .listShards: return try streams.listShards(&reader, namespace)
        case .putRecord:
            return try await records.putRecord(&reader, namespace, reach: request.reach, producer: request.producer)
        case .putRecords:
            return try await records.putRecords(
                &reader,
                namespace,
                reach: request.reach,
                producer: request.producer,
                replyProtocol: request.replyProtocol
            )
        case .getShardIterator: return try await records.getShardIterator(&reader, namespace)
        case .getRecords: return try await records.getRecords(&reader, namespace, replyProtocol: request.replyProtocol)
        case .increaseStreamRetentionPeriod:
            return try await settings.changeRetention(&reader, namespace, increase: true)
        case .decreaseStreamRetentionPeriod:
            return try await settings.changeRetention(&reader, namespace, increase: false)
        case .addTagsToStream: return try await tags.addTags(&reader, namespace)
        case .removeTagsFromStream: return try await tags.removeTags(&reader, namespace)
        case .listTagsForStream: return try tags.listTags(&reader, namespace)
        case .describeLimits: return settings.describeLimits(namespace)
        case .enableEnhancedMonitoring:
            return try await settings.changeEnhancedMonitoring(&reader, namespace, enable: true)
        case .disableEnhancedMonitoring:
            return try await settings.changeEnhancedMonitoring(&reader, namespace, enable: false)
        case .startStreamEncryption: return try await settings.changeEncryption(&reader, namespace, start: true)
        case .stopStreamEncryption: return try await settings.changeEncryption(&reader, namespace, start: false)
        case .updateMaxRecordSize: return try await settings.updateMaxRecordSize(&reader, namespace)
        case .updateStreamMode: return try await settings.updateStreamMode(&reader, namespace)
        case .updateStreamWarmThroughput: return try await settings.updateWarmThroughput(&reader, namespace)
        case .describeAccountSettings: return settings.describeAccountSettings(namespace)
        case .updateAccountSettings: return try await settings.updateAccountSettings(&reader, namespace)
        case .tagResource: return try await tags.tagResource(&reader, namespace)
        case .untagResource: return try await tags.untagResource(&reader, namespace)
        case .listTagsForResource: return try tags.listTagsForResource(&reader, namespace)
        case .putResourcePolicy: return try await tags.putResourcePolicy(&reader, namespace)
        case .getResourcePolicy: return try tags.getResourcePolicy(&reader, namespace)
        case .deleteResourcePolicy: return try await tags.deleteResourcePolicy(&reader, namespace)
        case .registerStreamConsumer: return try await consumers.registerConsumer(&reader, namespace)
        case .describeStreamConsumer: return try consumers.describeConsumer(&reader, namespace)
        case .listStreamConsumers: return try consumers.listConsumers(&reader, namespace)
        case .deregisterStreamConsumer: return try await consumers.deregisterConsumer(&reader, namespace)
        case .splitShard: return try await streams.splitShard(&reader, namespace)
        case .mergeShards: return try await streams.mergeShards(&reader, namespace)
        case .updateShardCount: return try await streams.updateShardCount(&reader, namespace)
        case .createConsumerGroup: return try await groups.createGroup(&reader, namespace)
        case .deleteConsumerGroup: return try await groups.deleteGroup(&reader, namespace)
        case .listConsumerGroups: return try groups.listGroups(&reader, namespace)
        case .describeConsumerGroup: return try groups.describeGroup(&reader, namespace)
        case .acquireLeases: return try await groups.acquireLeases(&reader, namespace)
        case .renewLease: return try await groups.renewLease(&reader, namespace)
        case .releaseLease: return try await groups.releaseLease(&reader, namespace)
        case .checkpoint: return try await groups.checkpoint(&reader, namespace)
        default:
            throw KinesisError(.unknownOperation, "Rill does not implement \(request.operation.rawValue) yet.")
        }
    }
}
