import Foundation
import Logging
import NIOCore
import RillCluster
import RillKinesis
import RillModel
import RillRaft
import RillReplication
import RillStorage
import RillTransport
import Synchronization

/// The shard logs this node holds: opening a replica once however many callers race, following the catalog
/// (`reconcile`), and dropping copies that moved away or whose stream is gone. The node owns one.
final class ReplicaHost: Sendable {
    let configuration: NodeConfiguration
    let logger: Logger
    let clock: any WallClock
    let metrics: NodeMetrics
    let metadata: MetadataStore
    /// The cluster this node belongs to; nil for a one-node cluster.
    let cluster: ClusterContext?
    let registry: GroupRegistry
    let stateLog: RaftStateLog
    let flusher: Flusher
    let recordKeys: RecordKeys
    /// Whether the catalog is known to be current, which lets `reconcile` reopen a seal the log held at open.
    let barrier: CatalogBarrier
    /// Where a node alone runs its groups (`GroupPlan.soleVoter`); nil: the global pool.
    let soleVoterLoops: (any EventLoopGroup)?
    /// Shard opens in progress, so concurrent first uses of a shard share one open.
    private let openings = Mutex<[String: Task<ShardReplica, any Error>]>([:])
    /// Shard logs by stream id, then shard index.
    private let replicas = Mutex<[String: [UInt32: ShardReplica]]>([:])

    var me: NodeID { configuration.id }

    init(
        configuration: NodeConfiguration,
        logger: Logger,
        clock: any WallClock,
        metrics: NodeMetrics,
        metadata: MetadataStore,
        cluster: ClusterContext?,
        registry: GroupRegistry,
        stateLog: RaftStateLog,
        flusher: Flusher,
        recordKeys: RecordKeys,
        barrier: CatalogBarrier,
        soleVoterLoops: (any EventLoopGroup)?
    ) {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.metrics = metrics
        self.metadata = metadata
        self.cluster = cluster
        self.registry = registry
        self.stateLog = stateLog
        self.flusher = flusher
        self.recordKeys = recordKeys
        self.barrier = barrier
        self.soleVoterLoops = soleVoterLoops
    }

    func shardDirectory(streamID: String, shard: ShardID) -> String {
        "\(configuration.dataDirectory)/shards/\(streamID)/\(shard.name)"
    }

    /// Makes the replicas on this node follow the catalog: opens a log for every shard placed here (and sets
    /// aside logs of streams that are gone). Runs at start and after every applied catalog change.
    func reconcile() async throws {
        let catalog = metadata.catalog
        let streams = catalog.allStreams
        for stream in streams {
            for shard in stream.shards where holds(shard) {
                let replica = try await replica(for: stream, shard: shard)
                // Only ever closes: reopening is the failed reshard's own business (see `setSealed`), or a
                // current catalog's, for a seal the log held at open (`CatalogBarrier.confirm`).
                if let seal = shard.sealIndex {
                    replica.setSealed(at: LogIndex(seal))
                } else if replica.hasUnconfirmedSeal, barrier.isCurrent {
                    replica.reopenUnconfirmedSeal()
                }
            }
        }
        // Judged on the catalog as it is now, not as this pass began: a stream created meanwhile is open too.
        let current = metadata.catalog
        let live = Set(current.allStreams.map(\.id))
        let opened = replicas.withLock { Array($0.keys) }
        for streamID in opened where !live.contains(streamID) && current.appliedIndex > .zero {
            await dropReplicas(streamID: streamID)
        }
        for stream in current.allStreams {
            for shard in stream.shards
            where !holds(shard) && localReplica(streamID: stream.id, shard: shard.index) != nil {
                await dropReplica(streamID: stream.id, shard: shard.index)
            }
        }
        registry.discardWaiting { group in
            guard case .shard(let streamID, _) = group else { return true }
            return live.contains(streamID)
        }
    }

    /// At start, before any call is served: sets aside shard folders of streams the catalog does not know (a
    /// stream deleted just before a crash). Never later: a stream being created has its folder before the
    /// catalog snapshot a concurrent pass would read. Only a one-node cluster's catalog is complete at start
    /// (a cluster node replays to its last recorded commit), so only it may judge.
    func setAsideOrphans() {
        guard cluster == nil else { return }
        let live = Set(metadata.catalog.allStreams.map(\.id))
        let shardsRoot = configuration.dataDirectory + "/shards"
        let present = (try? FileManager.default.contentsOfDirectory(atPath: shardsRoot)) ?? []
        for folder in present where !live.contains(folder) {
            // Set aside rather than deleted: if the catalog ever lost a stream, its records must still be on disk.
            let orphaned = configuration.dataDirectory + "/orphaned"
            logger.warning(
                "setting aside data of a stream the catalog does not know",
                metadata: ["rill.stream.id": "\(folder)"]
            )
            do {
                try FileManager.default.createDirectory(atPath: orphaned, withIntermediateDirectories: true)
                try FileManager.default.moveItem(atPath: shardsRoot + "/" + folder, toPath: orphaned + "/" + folder)
            } catch {
                // Left where it is: nothing opens a folder the catalog does not name, and nothing deletes it.
                logger.error(
                    "could not set aside data of a stream the catalog does not know; it stays in place",
                    metadata: ["rill.stream.id": "\(folder)", "error": "\(error)"]
                )
            }
        }
    }

    /// Whether this node holds a replica of `shard`: placement put it here (a node leaving the shard's group
    /// keeps its copy until the move is done). A one-node cluster holds every shard.
    func holds(_ shard: ShardMetadata) -> Bool {
        if case .open = plan(for: shard) { return true }
        return false
    }

    /// How this node runs its copy of `shard` (`ReplicaPlan`).
    func plan(for shard: ShardMetadata) -> ReplicaPlan.Decision {
        ReplicaPlan.decide(shard, me: me.rawValue, mode: cluster == nil ? .singleNode : .cluster)
    }

    /// The replica of a shard if it is open on this node.
    func localReplica(streamID: String, shard: UInt32) -> ShardReplica? {
        replicas.withLock { $0[streamID]?[shard] }
    }

    /// The replica of a shard whose open is under way here, once open; nil when none is being opened.
    func openingReplica(streamID: String, shard index: UInt32) async throws -> ShardReplica? {
        guard let opening = openings.withLock({ $0["\(streamID)/\(index)"] }) else { return nil }
        return try await opening.value
    }

    /// The replica of a shard, opening its log (off the event loop) the first time.
    func replica(for stream: StreamMetadata, shard: ShardMetadata) async throws -> ShardReplica {
        if let existing = replicas.withLock({ $0[stream.id]?[shard.index] }) { return existing }
        // One open per shard, however many callers race: two groups on one directory would corrupt it. The
        // first caller's task does the open; the others await the same task, and it ends with the open.
        let key = "\(stream.id)/\(shard.index)"
        let voters: [UInt64]
        let setAside: Bool
        switch plan(for: shard) {
        case .open(let planned, let setAsideOlderCopy):
            (voters, setAside) = (planned, setAsideOlderCopy)
        case .notHeld:
            throw KinesisError.internalFailure("shard \(shard.id.name) of \(stream.name) is not placed on this node")
        case .unplaced:
            // A bug, never a fallback: a group opened without placed voters leads alone and loses what it
            // acknowledges. The controller places such shards (`healUnplacedShards`).
            logger.critical(
                "refusing to open a shard that has no placement",
                metadata: ["rill.stream": "\(stream.name)", "rill.shard": "\(shard.id)"]
            )
            throw Catalog.notPlaceable
        }
        let opening = openings.withLock { table -> Task<ShardReplica, any Error> in
            if let pending = table[key] { return pending }
            let directory = shardDirectory(streamID: stream.id, shard: shard.id)
            let group = RaftGroupID.shard(streamID: stream.id, shard: shard.id)
            let soleVoterExecutor: (any TaskExecutor)? = soleVoterLoops.map { EventLoopTaskExecutor($0.next()) }
            let plan =
                cluster.map { cluster in
                    GroupPlan.cluster(
                        voters: voters.map { NodeID($0) },
                        me: me,
                        cluster: cluster,
                        registry: registry,
                        group: group
                    )
                } ?? .soleVoter(me, taskExecutor: soleVoterExecutor)
            let raftMetrics = metrics.raft
            let recordKey = Self.recordKey(of: stream, metadata: metadata, keys: recordKeys)
            // The group outlives the request that may be opening it: its loops must not carry that request's id.
            let task = RequestLogContext.unbound {
                Task {
                    if setAside {
                        try self.setAsideCopyFromBeforeHeal(stream: stream, shard: shard, directory: directory)
                    }
                    return try await ShardReplica.open(
                        stream: stream,
                        shard: shard,
                        directory: directory,
                        plan: plan,
                        stateLog: stateLog,
                        flusher: flusher,
                        segmentBytes: configuration.segmentBytes,
                        logger: logger,
                        registry: registry,
                        recordKey: recordKey,
                        onSnapshotInstalled: { [events = cluster?.events, me = self.me] in
                            raftMetrics.snapshotInstalled()
                            events?.record(
                                ClusterEvent.snapshotInstalled(
                                    by: me.rawValue,
                                    group: "\(group)",
                                    atMillis: SystemWallClock().nowMillis()
                                )
                            )
                        }
                    )
                }
            }
            table[key] = task
            return task
        }
        do {
            let replica = try await opening.value
            replicas.withLock { $0[stream.id, default: [:]][shard.index] = replica }
            openings.withLock { _ = $0.removeValue(forKey: key) }
            return replica
        } catch {
            openings.withLock { _ = $0.removeValue(forKey: key) }
            throw error
        }
    }

    func allReplicas() -> [ShardReplica] {
        replicas.withLock { table in table.values.flatMap(\.values) }
            .sorted { ($0.streamID, $0.shard.index) < ($1.streamID, $1.shard.index) }
    }

    /// Closes and deletes this node's copy of a shard it no longer holds: its move to other nodes is done,
    /// so the group's committed membership no longer counts this copy.
    func dropReplica(streamID: String, shard index: UInt32) async {
        guard let replica = replicas.withLock({ $0[streamID]?.removeValue(forKey: index) }) else { return }
        registry.unregister(replica.driver.group)
        await replica.stop()
        do { try stateLog.forget(replica.driver.group) } catch {
            logger.warning("could not forget a moved shard's raft state", metadata: ["error": "\(error)"])
        }
        do { try FileManager.default.removeItem(atPath: replica.directory) } catch {
            logger.warning(
                "could not remove a moved shard's data",
                metadata: ["path": "\(replica.directory)", "error": "\(error)"]
            )
        }
        replica.driver.logger.info("this node's copy of the shard moved to other nodes; its data is deleted")
    }

    func dropReplicas(streamID: String) async {
        // The delete's handler and the reconciler may both get here; the first takes the replicas and the folder.
        guard let dropped = replicas.withLock({ $0.removeValue(forKey: streamID) }) else { return }
        for (index, replica) in dropped {
            registry.unregister(replica.driver.group)
            await replica.stop()
            do { try stateLog.forget(.shard(streamID: streamID, shard: ShardID(index: index))) } catch {
                logger.warning("could not forget a deleted shard's raft state", metadata: ["error": "\(error)"])
            }
        }
        let path = "\(configuration.dataDirectory)/shards/\(streamID)"
        do { try FileManager.default.removeItem(atPath: path) } catch {
            logger.warning(
                "could not remove a deleted stream's data",
                metadata: ["path": "\(path)", "error": "\(error)"]
            )
        }
    }

    /// Stops every replica (after the Ready each has in flight), at shutdown.
    func stopAll() async {
        let all = replicas.withLock { table in table.values.flatMap(\.values) }
        for replica in all { await replica.stop() }
    }
}
