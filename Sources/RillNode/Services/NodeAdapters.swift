import NIOConcurrencyHelpers
import NIOPosix
import RillAPI
import RillCluster
import RillKinesis
import RillModel
import RillRouting

// The node's implementations of what its services depend on (`Services/ServiceDependencies.swift` and each
// service's protocols), over the parts the node owns (`ReplicaHost`, `ShardLeaders`). The services never see
// `Node` itself.

/// The node's catalog, as its metadata store has applied it.
struct StoreCatalogView: CatalogView {
    let store: MetadataStore
    let accountID: String

    var catalog: Catalog { store.catalog }
}

/// Proposes to the node's metadata group, stamped by the node's clock.
struct StoreProposer: MetadataProposer {
    let store: MetadataStore
    let clock: any WallClock

    func commit(_ command: CatalogCommand) async throws {
        try await store.propose(command, stampMillis: clock.nowMillis()).get()
    }
}

/// The node's shard copies as the streams service sees them.
struct NodeReplicaLifecycle: ReplicaLifecycle {
    let host: ReplicaHost
    let leaders: ShardLeaders

    func openHeldReplicas(of stream: StreamMetadata, shards: [ShardMetadata]) async throws {
        for shard in shards where host.holds(shard) { _ = try await host.replica(for: stream, shard: shard) }
    }

    func dropReplicas(streamID: String) async {
        await host.dropReplicas(streamID: streamID)
    }

    func sealShard(stream: StreamMetadata, shard: ShardMetadata) async throws -> LogIndex {
        try await leaders.sealShard(stream: stream, shard: shard)
    }

    func reopen(streamID: String, shard: UInt32) {
        host.localReplica(streamID: streamID, shard: shard)?.setSealed(at: nil)
    }
}

/// The node's appends as the records service sees them: on the shard's leader through the one forwarder.
struct NodeShardAppender: ShardAppender {
    let leaders: ShardLeaders

    func append(
        _ batch: RecordBatch,
        stream: StreamMetadata,
        shard: ShardMetadata,
        reach: Reach
    ) async throws -> (LogIndex, Int64) {
        try await leaders.appendDurably(batch, stream: stream, shard: shard, reach: reach)
    }

    func appendOnce(
        _ batch: RecordBatch,
        stream: StreamMetadata,
        shard: ShardMetadata,
        reach: Reach
    ) async throws -> [Result<RecordPosition, KinesisError>] {
        try await leaders.appendOnce(batch, stream: stream, shard: shard, reach: reach)
    }

    func requireLeadership(of shards: [ShardMetadata], in stream: StreamMetadata) async throws {
        guard leaders.isCluster else { return }
        var found: [NodeID?] = []
        for shard in shards {
            found.append(
                await leaders.leader(of: .shard(streamID: stream.id, shard: shard.id), replicas: shard.replicas)
            )
        }
        switch ForwardedAppend.decide(leaders: found, me: leaders.me) {
        case .serve: return
        case .redirect(let leader): throw Redirect(hint: leader)
        case .routeAgain: throw ShardSealed()
        }
    }

    func lead(of shard: ShardMetadata, in stream: StreamMetadata) async throws -> ShardLead? {
        try await leaders.shardLead(stream: stream, shard: shard)
    }
}

/// The node's copies of shards as the records service reads them.
struct NodeShardReaders: ShardReaders {
    let leaders: ShardLeaders
    let threadPool: NIOThreadPool
    let recordKeys: RecordKeys

    func servingShard(_ stream: StreamMetadata, _ shard: ShardMetadata) async throws -> any ReadableShard {
        NodeReadableShard(
            replica: try await leaders.servingReplica(stream: stream, shard: shard),
            threadPool: threadPool,
            opener: recordKeys.opener(for: stream)
        )
    }
}

/// A replica read on the node's storage thread pool.
struct NodeReadableShard: ReadableShard {
    let replica: ShardReplica
    let threadPool: NIOThreadPool
    let opener: EntryOpener

    var firstIndex: LogIndex { replica.log.firstIndex }
    var committedIndex: LogIndex { replica.committedIndex }

    func firstIndex(atOrAfterTimestamp millis: Int64) async throws -> LogIndex? {
        let log = replica.log
        return try await threadPool.runIfActive { try log.firstIndex(atOrAfterTimestamp: millis) }
    }

    func read(from start: LogPosition, limit: Int, maxBytes: Int, horizonMillis: Int64) async throws -> ShardReader.Page
    {
        let (replica, opener) = (replica, opener)
        return try await threadPool.runIfActive {
            try ShardReader(replica: replica, opener: opener).read(
                from: start,
                limit: limit,
                maxBytes: maxBytes,
                horizonMillis: horizonMillis
            )
        }
    }

    func sequenceNumber(index: LogIndex, slot: UInt16, stampMillis: Int64) -> SequenceNumber {
        replica.sequenceNumber(index: index, slot: slot, stampMillis: stampMillis)
    }
}

extension ShardReplica: RecordSequencer {}
