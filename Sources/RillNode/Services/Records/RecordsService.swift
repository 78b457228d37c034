import RillAPI
import RillKinesis
import RillModel
import RillRouting

/// The records family's writes: PutRecord and PutRecords. A record is routed by its hash key to the open
/// shard that holds it (`ShardMap.route`), admitted by the shard's throughput limit, and appended on the
/// shard's leader by a `ShardAppender`; PutRecords appends one entry per shard in parallel and merges the
/// outcomes (`PutRecordsMerge`). GetShardIterator and GetRecords are still the node's (Node+Iterators).
struct RecordsService: Sendable {
    let metadata: any CatalogView
    let appender: any ShardAppender
    let throughput: ThroughputLimiter
    let shardMaps: ShardMapCache
    let metrics: NodeMetrics

    func resolve(_ selector: StreamSelector, _ namespace: Namespace) throws(KinesisError) -> (StreamMetadata, Namespace) {
        try metadata.resolve(selector, namespace)
    }
}

/// Appends records to a shard on its leader.
protocol ShardAppender: Sendable {
    /// Proposes `batch` as one entry to the shard's group on its leader (here or, as `reach` allows, one hop
    /// away) and returns once it is committed: the entry's index and the leader's arrival stamp. Throws
    /// `ShardSealed` when a reshard sealed the shard (nothing written), `Redirect` when the leader is
    /// elsewhere and `reach` is `.here`.
    func append(
        _ batch: RecordBatch, stream: StreamMetadata, shard: ShardMetadata, reach: Reach
    ) async throws -> (LogIndex, Int64)
    /// Throws `Redirect` unless this node leads every one of `shards`: a forwarded call is served here whole
    /// or sent on whole, never half written.
    func requireLeadership(of shards: [ShardMetadata], in stream: StreamMetadata) async throws
}
