import RillAPI
import RillKinesis
import RillModel
import RillRouting

/// The records family: PutRecord, PutRecords, GetShardIterator and GetRecords. A record is routed by its hash key to the open
/// shard that holds it (`ShardMap.route`), admitted by the shard's throughput limit, and appended on the
/// shard's leader by a `ShardAppender`; PutRecords appends one entry per shard in parallel and merges the
/// outcomes (`PutRecordsMerge`). GetShardIterator turns a starting position into a sealed iterator;
/// GetRecords reads from the shard leader's copy (`ShardReaders`) and writes the client's encoding directly.
struct RecordsService: Sendable {
    let metadata: any CatalogView
    let appender: any ShardAppender
    let readers: any ShardReaders
    let throughput: ThroughputLimiter
    let shardMaps: ShardMapCache
    /// Iterator issue times, their expiry, and the retention horizon of reads.
    let clock: any WallClock
    let metrics: NodeMetrics
    /// What this node wrote to on-demand shards, for the controller's scaling round.
    let onDemandWrites = OnDemandWrites()

    func resolve(_ selector: StreamSelector, _ namespace: Namespace) throws(KinesisError) -> (StreamMetadata, Namespace)
    {
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
        _ batch: RecordBatch,
        stream: StreamMetadata,
        shard: ShardMetadata,
        reach: Reach
    ) async throws -> (LogIndex, Int64)
    /// `append` for an idempotent producer's batch (`batch.producer` is set): only records the shard has not
    /// committed are stored; each record's position (new, or its first copy's) or error, in batch order.
    func appendOnce(
        _ batch: RecordBatch,
        stream: StreamMetadata,
        shard: ShardMetadata,
        reach: Reach
    ) async throws -> [Result<RecordPosition, KinesisError>]
    /// Throws unless this node leads every one of `shards`, as `ForwardedAppend` decides: `Redirect` to the one
    /// node that leads them all, or `ShardSealed` when they are led apart (the sender routed by a map older
    /// than a split, and must split again). A forwarded call is served here whole or sent on whole, never half
    /// written.
    func requireLeadership(of shards: [ShardMetadata], in stream: StreamMetadata) async throws
    /// This node's lead of `shard` (`ShardLead`), or nil when another node leads it: the throughput limits are
    /// checked where the shard is led, so a node that does not lead it leaves them to the leader.
    func lead(of shard: ShardMetadata, in stream: StreamMetadata) async throws -> ShardLead?
}

/// Numbers the records of a shard's entries (the shard's epoch and index are in every number).
protocol RecordSequencer: Sendable {
    func sequenceNumber(index: LogIndex, slot: UInt16, stampMillis: Int64) -> SequenceNumber
}

/// A copy of a shard that reads are served from: the leader's for GetShardIterator and GetRecords (reads stop
/// at its commit index), this node's for a subscription. Reads run on the storage thread pool.
protocol ReadableShard: RecordSequencer {
    /// The first index the log still holds (retention trims below it).
    var firstIndex: LogIndex { get }
    /// The last index committed and applied here.
    var committedIndex: LogIndex { get }
    /// The first entry stamped at or after `millis` (AT_TIMESTAMP); nil when none is yet.
    func firstIndex(atOrAfterTimestamp millis: Int64) async throws -> LogIndex?
    /// Committed records from `start`: at most `limit` records or about `maxBytes`, none older than the horizon.
    func read(from start: LogPosition, limit: Int, maxBytes: Int, horizonMillis: Int64) async throws -> ShardReader.Page
}

/// Finds the copy of a shard a read is served from.
protocol ShardReaders: Sendable {
    /// The leader's copy, when this node leads the shard; otherwise `Redirect` to the leader.
    func servingShard(_ stream: StreamMetadata, _ shard: ShardMetadata) async throws -> any ReadableShard
}
