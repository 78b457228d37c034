import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RillAPI
import RillCluster
import RillKinesis
import RillModel
import RillRaft
import RillReplication
import RillRouting
import RillStorage
import RillTransport

/// SubscribeToShard's events on this node (`SubscriptionSource`): read from this node's replica of the shard,
/// one subscription per consumer and shard at a time (`SubscriptionLeases`).
struct ShardSubscriptions: SubscriptionSource {
    let clock: any WallClock
    let metadata: MetadataStore
    let recordKeys: RecordKeys
    let threadPool: NIOThreadPool
    let metrics: NodeMetrics
    let leaders: ShardLeaders
    /// Where a subscription starts (`RecordsService.startPosition`).
    let records: RecordsService
    let throughput: ThroughputLimiter
    let subscriptionLeases: SubscriptionLeases

    /// The subscription to `shard` from `start`, reading this node's replica.
    func subscribe(
        stream: StreamMetadata,
        shard: ShardMetadata,
        from start: SubscriptionStart,
        namespace: Namespace
    ) async throws -> any EventSubscription {
        let replica = try await leaders.subscriptionReplica(stream: stream, shard: shard)
        let readable = NodeReadableShard(
            replica: replica,
            threadPool: threadPool,
            opener: recordKeys.opener(for: stream)
        )
        let position = try await records.startPosition(
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
            source: self,
            stream: stream,
            shard: shard,
            replica: replica,
            position: position,
            startedMillis: clock.nowMillis(),
            lease: lease,
            consumerName: consumer,
            pacer: throughput.fanOutPacer()
        )
    }
}
