import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import RillKinesis
import RillModel
import RillStorage

/// A Rill node: its metadata, the shard logs it holds, and the Kinesis operations served from them.
public final class Node: Sendable {
    public let configuration: NodeConfiguration
    let logger: Logger
    let clock: any WallClock
    let threadPool: NIOThreadPool
    let flusher: Flusher
    let stateLog: RaftStateLog
    /// Shard opens in progress, so concurrent first uses of a shard share one open.
    private let openings = NIOLockedValueBox<[String: Task<ShardReplica, any Error>]>([:])
    let metadata: MetadataStore
    let metrics: NodeMetrics
    /// Throughput buckets of provisioned shards, when limits are enforced.
    let throttles = NIOLockedValueBox<[ThrottleKey: ShardThroughput]>([:])
    /// Shard logs by stream id, then shard index.
    private let replicas = NIOLockedValueBox<[String: [UInt32: ShardReplica]]>([:])

    /// The largest request a client may send: a 10 MiB PutRecords in base64 plus keys and framing.
    public static let maxRequestBytes = 16 << 20 + 512 << 10

    /// Opens (or creates) the node's data directory and recovers every log in it.
    ///
    /// - Parameter metrics: where the node reports; by default the process-wide `MetricsSystem`.
    public static func start(
        configuration: NodeConfiguration, clock: any WallClock = SystemWallClock(), logger: Logger,
        metrics: NodeMetrics = NodeMetrics()
    ) async throws -> Node {
        let threadPool = NIOThreadPool(numberOfThreads: configuration.storageThreads)
        threadPool.start()
        let storageMetrics = metrics.storage
        let flusher = Flusher(threadPool: threadPool, logger: logger, onRound: storageMetrics.roundFinished) { error in
            // An fsync error is fatal: the page cache may have dropped the data, so retrying would lie.
            logger.critical("fsync failed; exiting to recover from disk", metadata: ["error": "\(error)"])
            exit(70)
        }
        let root = configuration.dataDirectory
        try NodeIdentity.loadOrCreate(directory: root, configuration: configuration, logger: logger)
        // Term, vote, commit and durable index of every group on this node, synced by the flush rounds.
        let stateLog = try RaftStateLog.open(path: root + "/raftstate.log")
        let metadata = try await MetadataStore.open(
            directory: root + "/meta", node: configuration.id, stateLog: stateLog, flusher: flusher, logger: logger)
        let node = Node(
            configuration: configuration, logger: logger, clock: clock, threadPool: threadPool, flusher: flusher,
            stateLog: stateLog, metadata: metadata, metrics: metrics)
        if metadata.catalog.clusterID == nil {
            var key = [UInt8](repeating: 0, count: 32)
            var generator = SystemRandomNumberGenerator()
            for i in key.indices { key[i] = generator.next() }
            _ = try await metadata.propose(
                .initialize(clusterID: UUID().uuidString.lowercased(), iteratorKey: key), stampMillis: clock.nowMillis())
        }
        try await node.openReplicas()
        return node
    }

    private init(
        configuration: NodeConfiguration, logger: Logger, clock: any WallClock, threadPool: NIOThreadPool,
        flusher: Flusher, stateLog: RaftStateLog, metadata: MetadataStore, metrics: NodeMetrics
    ) {
        self.stateLog = stateLog
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.threadPool = threadPool
        self.flusher = flusher
        self.metadata = metadata
        self.metrics = metrics
    }

    /// Stops every group (after the Ready each has in flight), then the storage threads.
    public func shutdown() async throws {
        let all = replicas.withLockedValue { table in table.values.flatMap(\.values) }
        for replica in all { await replica.stop() }
        await metadata.stop()
        try await threadPool.shutdownGracefully()
    }

    // MARK: - Shard logs

    func shardDirectory(streamID: String, shard: ShardID) -> String {
        "\(configuration.dataDirectory)/shards/\(streamID)/\(shard.name)"
    }

    /// Opens a log for every shard in the catalog and forgets (deletes) logs of streams that are gone.
    func openReplicas() async throws {
        let catalog = metadata.catalog
        let streams = catalog.allStreams
        for stream in streams {
            for shard in stream.shards { _ = try await replica(for: stream, shard: shard) }
        }
        let live = Set(streams.map(\.id))
        let shardsRoot = configuration.dataDirectory + "/shards"
        let present = (try? FileManager.default.contentsOfDirectory(atPath: shardsRoot)) ?? []
        for folder in present where !live.contains(folder) {
            // A stream deleted just before a crash leaves its folder behind. Set it aside rather than
            // delete it: if the catalog ever lost a stream, its records must still be on disk.
            let orphaned = configuration.dataDirectory + "/orphaned"
            logger.warning("setting aside data of a stream the catalog does not know", metadata: ["rill.stream.id": "\(folder)"])
            try? FileManager.default.createDirectory(atPath: orphaned, withIntermediateDirectories: true)
            try? FileManager.default.moveItem(atPath: shardsRoot + "/" + folder, toPath: orphaned + "/" + folder)
        }
    }

    /// The replica of a shard, opening its log (off the event loop) the first time.
    func replica(for stream: StreamMetadata, shard: ShardMetadata) async throws -> ShardReplica {
        if let existing = replicas.withLockedValue({ $0[stream.id]?[shard.index] }) { return existing }
        // One open per shard, however many callers race: two groups on one directory would corrupt it. The
        // first caller's task does the open; the others await the same task, and it ends with the open.
        let key = "\(stream.id)/\(shard.index)"
        let opening = openings.withLockedValue { table -> Task<ShardReplica, any Error> in
            if let pending = table[key] { return pending }
            let directory = shardDirectory(streamID: stream.id, shard: shard.id)
            let task = Task {
                try await ShardReplica.open(
                    stream: stream, shard: shard, directory: directory, node: configuration.id, stateLog: stateLog,
                    flusher: flusher, segmentBytes: configuration.segmentBytes, logger: logger)
            }
            table[key] = task
            return task
        }
        do {
            let replica = try await opening.value
            replicas.withLockedValue { $0[stream.id, default: [:]][shard.index] = replica }
            openings.withLockedValue { _ = $0.removeValue(forKey: key) }
            return replica
        } catch {
            openings.withLockedValue { _ = $0.removeValue(forKey: key) }
            throw error
        }
    }

    func dropReplicas(streamID: String) async {
        let dropped = replicas.withLockedValue { $0.removeValue(forKey: streamID) } ?? [:]
        for (index, replica) in dropped {
            await replica.stop()
            do { try stateLog.forget(.shard(streamID: streamID, shard: ShardID(index: index))) } catch {
                logger.warning("could not forget a deleted shard's raft state", metadata: ["error": "\(error)"])
            }
        }
        let path = "\(configuration.dataDirectory)/shards/\(streamID)"
        do { try FileManager.default.removeItem(atPath: path) } catch {
            logger.warning("could not remove a deleted stream's data", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
