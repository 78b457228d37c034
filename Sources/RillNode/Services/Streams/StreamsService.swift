import Logging
import RillAPI
import RillKinesis
import RillModel

/// Streams and shards: CreateStream, DeleteStream, ListStreams, DescribeStream(Summary), ListShards, and
/// resharding (SplitShard, MergeShards, UpdateShardCount). Reads the catalog, proposes catalog commands, and
/// asks the node's replica set to open, seal and drop shard copies (`ReplicaLifecycle`).
struct StreamsService: CatalogService {
    let metadata: any CatalogView
    let proposer: any MetadataProposer
    let replicas: any ReplicaLifecycle
    /// Creation times, shard epochs, page tokens and the retention horizon of descriptions.
    let clock: any WallClock
    let metrics: NodeMetrics
    let logger: Logger
}

/// What the streams service needs of the shard copies on this node.
protocol ReplicaLifecycle: Sendable {
    /// Opens this node's copies of those of `shards` placed here (after a create or a reshard committed).
    func openHeldReplicas(of stream: StreamMetadata, shards: [ShardMetadata]) async throws
    /// Closes and deletes this node's copies of a deleted stream's shards.
    func dropReplicas(streamID: String) async
    /// Appends the `seal` entry of a reshard on the shard's leader, wherever it is, and returns its index.
    func sealShard(stream: StreamMetadata, shard: ShardMetadata) async throws -> LogIndex
    /// Takes back the seal of a reshard that failed, on this node's copy of the shard if it has one.
    func reopen(streamID: String, shard: UInt32)
}
