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

/// A Rill node: its metadata, the shard logs it holds, and the Kinesis operations served from them.
public final class Node: Sendable {
    public let configuration: NodeConfiguration
    let logger: Logger
    let clock: any WallClock
    /// `clock` itself when the node runs with fault injection, so `/admin/faults` can move it.
    let faultClock: SkewableWallClock?
    let threadPool: NIOThreadPool
    let flusher: Flusher
    let stateLog: RaftStateLog
    /// Shard opens in progress, so concurrent first uses of a shard share one open.
    private let openings = NIOLockedValueBox<[String: Task<ShardReplica, any Error>]>([:])
    let metadata: MetadataStore
    let metrics: NodeMetrics
    /// Shard logs by stream id, then shard index.
    private let replicas = NIOLockedValueBox<[String: [UInt32: ShardReplica]]>([:])
    /// Routes Raft messages between this node's groups and its peers.
    let registry: GroupRegistry
    /// The cluster this node belongs to; nil for a one-node cluster.
    let cluster: ClusterContext?
    /// Sends calls to the nodes that must serve them (leader choice and cache, retries); nil for a one-node
    /// cluster.
    let forwarder: Forwarder?
    /// Since when each group's preferred leader, led elsewhere from here, has been caught up (leader balancing).
    let preferredCaughtUpSince = NIOLockedValueBox<[RaftGroupID: ContinuousClock.Instant]>([:])
    /// The placement audit's last two findings (`auditPlacement`).
    let placementAudit = NIOLockedValueBox(PlacementAuditState())
    /// The consumer and shard pairs with a SubscribeToShard under way here: one at a time each.
    let subscriptionLeases = SubscriptionLeases()
    /// Signals that the catalog changed, so the replica set follows it.
    private let catalogChanged: AsyncStream<Void>.Continuation
    private let catalogChanges: AsyncStream<Void>
    /// The reconciler and controller loops; cancelled at shutdown.
    private let background = NIOLockedValueBox<[Task<Void, Never>]>([])

    var me: NodeID { configuration.id }

    /// The Kinesis operations, a service per family (`Services/`).
    let services: NodeServices

    /// The largest request a client may send: a 10 MiB PutRecords in base64 plus keys and framing.
    public static let maxRequestBytes = 16 << 20 + 512 << 10

    /// Opens (or creates) the node's data directory and recovers every log in it.
    ///
    /// - Parameter metrics: where the node reports; by default the process-wide `MetricsSystem`.
    public static func start(
        configuration: NodeConfiguration,
        clock: any WallClock = SystemWallClock(),
        logger: Logger,
        metrics: NodeMetrics = NodeMetrics(),
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) async throws -> Node {
        if configuration.faultInjection {
            // Before any file opens: only files opened after this can hold back unsynced writes.
            StorageFaults.enableHooks()
            if configuration.loseUnsyncedWrites { StorageFaults.loseUnsyncedWrites = true }
        }
        let faultClock = configuration.faultInjection ? SkewableWallClock(base: clock) : nil
        let clock: any WallClock = faultClock ?? clock
        let threadPool = NIOThreadPool(numberOfThreads: configuration.storageThreads)
        threadPool.start()
        let storageMetrics = metrics.storage
        let flusher = Flusher(threadPool: threadPool, logger: logger, onRound: storageMetrics.roundFinished) { error in
            // An fsync error is fatal: the page cache may have dropped the data, so retrying would lie.
            logger.critical("fsync failed; exiting to recover from disk", metadata: ["error": "\(error)"])
            exit(70)
        }
        let root = configuration.dataDirectory
        var identity = try NodeIdentity.loadOrCreate(directory: root, configuration: configuration, logger: logger)
        var context: ClusterContext?
        if let settings = configuration.cluster {
            guard let eventLoopGroup else {
                throw KinesisError.internalFailure("a cluster node needs an event loop group")
            }
            context = try await ClusterContext.establish(
                settings: settings,
                identity: &identity,
                directory: root,
                group: eventLoopGroup,
                logger: logger
            )
        }
        // Term, vote, commit and durable index of every group on this node, synced by the flush rounds.
        let stateLog = try RaftStateLog.open(path: root + "/raftstate.log")
        let (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let registry = GroupRegistry(transport: context?.transport) { _ in changed.yield() }
        let metaPlan =
            context.map {
                Self.plan(voters: $0.voterIDs, me: configuration.id, cluster: $0, registry: registry, group: .meta)
            } ?? .soleVoter(configuration.id)
        let raftMetrics = metrics.raft
        let metadata = try await MetadataStore.open(
            directory: root + "/meta",
            plan: metaPlan,
            stateLog: stateLog,
            flusher: flusher,
            logger: logger,
            registry: registry,
            onSnapshotInstalled: { raftMetrics.snapshotInstalled() },
            onApplied: { changed.yield() }
        )
        let node = Node(
            configuration: configuration,
            logger: logger,
            clock: clock,
            faultClock: faultClock,
            threadPool: threadPool,
            flusher: flusher,
            stateLog: stateLog,
            metadata: metadata,
            metrics: metrics,
            registry: registry,
            cluster: context,
            catalogChanges: changes,
            catalogChanged: changed
        )
        if let context {
            context.transport.onRaftMessages = { [weak registry] messages, _ in registry?.deliver(messages) }
            context.transport.setRequestHandler(
                { [weak node] peer, bytes in await node?.answer(bytes, from: peer) ?? [] },
                servesOnEventLoop: PeerCall.isSmallWrite
            )
            // A member turning suspect or dead, or restarting, may be the leader a resting group waits on.
            context.gossip.observe { [weak registry, weak context] old, new in
                context?.learn(gossiped: new)
                guard old?.status.name != new.status.name || old?.incarnation != new.incarnation else { return }
                registry?.wakeAll()
            }
            context.gossip.start(seeds: context.settings.join)
        } else {
            try await node.initializeCatalog()
        }
        node.setAsideOrphans()
        try await node.reconcile()
        node.startBackgroundLoops()
        return node
    }

    /// The plan of a group with several voters (the metadata group, or a shard's three replicas).
    static func plan(
        voters: [NodeID],
        me: NodeID,
        cluster: ClusterContext,
        registry: GroupRegistry,
        group: RaftGroupID
    ) -> GroupPlan {
        let settings = cluster.settings
        // Lazy notices (`eagerCommitNotice` off) halve a write's messages, but a CI run read nothing back from a
        // shard right after a clean restart of the whole cluster with them on: followers that restart behind the
        // last commit widen a read gap we have not closed yet. Every group announces commits at once until then.
        let eagerCommitNotice = true
        // Every group of a cluster ticks, even one that starts with this node as its only voter (a healed shard
        // grows from one copy): its leader must heartbeat the members it adds.
        return GroupPlan(
            me: me,
            voters: voters,
            tickInterval: settings.tickInterval,
            options: Raft.Options(
                electionTicks: settings.electionTicks,
                heartbeatTicks: 1,
                eagerCommitNotice: eagerCommitNotice
            ),
            send: registry.sender(for: group),
            campaignAtStart: voters.first == me && !cluster.rejoining,
            abstain: cluster.rejoining && voters != [me],
            isAlive: { cluster.isAlive($0) },
            taskExecutor: EventLoopTaskExecutor(cluster.transport.group.next())
        )
    }

    private init(
        configuration: NodeConfiguration,
        logger: Logger,
        clock: any WallClock,
        faultClock: SkewableWallClock?,
        threadPool: NIOThreadPool,
        flusher: Flusher,
        stateLog: RaftStateLog,
        metadata: MetadataStore,
        metrics: NodeMetrics,
        registry: GroupRegistry,
        cluster: ClusterContext?,
        catalogChanges: AsyncStream<Void>,
        catalogChanged: AsyncStream<Void>.Continuation
    ) {
        self.registry = registry
        self.cluster = cluster
        self.forwarder = cluster.map { cluster in
            Forwarder(
                me: configuration.id,
                transport: cluster.transport,
                gossip: cluster.gossip,
                deadline: cluster.settings.forwardDeadline,
                events: Forwarder.Events(onRetry: { metrics.forwardRetried() }, onGiveUp: { metrics.forwardGaveUp() })
            )
        }
        self.catalogChanges = catalogChanges
        self.catalogChanged = catalogChanged
        self.stateLog = stateLog
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.faultClock = faultClock
        self.threadPool = threadPool
        self.flusher = flusher
        self.metadata = metadata
        self.metrics = metrics
        let link = NodeLink()
        services = NodeServices(
            metadata: metadata,
            configuration: configuration,
            clock: clock,
            metrics: metrics,
            logger: logger,
            link: link
        )
        link.node = self
    }

    /// Stops every group (after the Ready each has in flight), then the storage threads.
    public func shutdown() async throws {
        let loops = background.withLockedValue { $0 }
        catalogChanged.finish()
        for loop in loops { loop.cancel() }
        for loop in loops { await loop.value }
        // Peers mark this node left at once instead of suspecting it for seconds.
        await cluster?.gossip.leave()
        await cluster?.transport.shutdown()
        let all = replicas.withLockedValue { table in table.values.flatMap(\.values) }
        for replica in all { await replica.stop() }
        await metadata.stop()
        try await threadPool.shutdownGracefully()
    }

    // MARK: - Shard logs

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
                // Only ever closes: reopening is the failed reshard's own business (see `setSealed`).
                if let seal = shard.sealIndex { replica.setSealed(at: LogIndex(seal)) }
            }
        }
        // Judged on the catalog as it is now, not as this pass began: a stream created meanwhile is open too.
        let current = metadata.catalog
        let live = Set(current.allStreams.map(\.id))
        let opened = replicas.withLockedValue { Array($0.keys) }
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
            try? FileManager.default.createDirectory(atPath: orphaned, withIntermediateDirectories: true)
            try? FileManager.default.moveItem(atPath: shardsRoot + "/" + folder, toPath: orphaned + "/" + folder)
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
        replicas.withLockedValue { $0[streamID]?[shard] }
    }

    private func startBackgroundLoops() {
        let reconciler = Task { [weak self, catalogChanges] in
            for await _ in catalogChanges {
                guard let self else { return }
                do { try await self.reconcile() } catch {
                    self.logger.error(
                        "could not open the replicas the catalog places here",
                        metadata: ["error": "\(error)"]
                    )
                }
            }
        }
        let sampler = Task { [weak self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: .seconds(1)) } catch { return }
                await self?.sampleRaftMetrics()
                if let self, let transport = self.cluster?.transport { self.metrics.transport.sample(transport) }
            }
        }
        var loops = [reconciler, sampler]
        if cluster != nil {
            loops.append(
                Task { [weak self] in
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: .milliseconds(250)) } catch { return }
                        await self?.controlOnce()
                    }
                }
            )
        }
        background.withLockedValue { $0 = loops }
    }

    /// The replica of a shard, opening its log (off the event loop) the first time.
    func replica(for stream: StreamMetadata, shard: ShardMetadata) async throws -> ShardReplica {
        if let existing = replicas.withLockedValue({ $0[stream.id]?[shard.index] }) { return existing }
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
        let opening = openings.withLockedValue { table -> Task<ShardReplica, any Error> in
            if let pending = table[key] { return pending }
            let directory = shardDirectory(streamID: stream.id, shard: shard.id)
            let group = RaftGroupID.shard(streamID: stream.id, shard: shard.id)
            let plan =
                cluster.map { cluster in
                    Self.plan(
                        voters: voters.map { NodeID($0) },
                        me: me,
                        cluster: cluster,
                        registry: registry,
                        group: group
                    )
                } ?? .soleVoter(me)
            let raftMetrics = metrics.raft
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
                        onSnapshotInstalled: { raftMetrics.snapshotInstalled() }
                    )
                }
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

    func allReplicas() -> [ShardReplica] {
        replicas.withLockedValue { table in table.values.flatMap(\.values) }
            .sorted { ($0.streamID, $0.shard.index) < ($1.streamID, $1.shard.index) }
    }

    /// Closes and deletes this node's copy of a shard it no longer holds: its move to other nodes is done,
    /// so the group's committed membership no longer counts this copy.
    func dropReplica(streamID: String, shard index: UInt32) async {
        guard let replica = replicas.withLockedValue({ $0[streamID]?.removeValue(forKey: index) }) else { return }
        registry.unregister(replica.driver.group)
        await replica.stop()
        try? stateLog.forget(replica.driver.group)
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
        guard let dropped = replicas.withLockedValue({ $0.removeValue(forKey: streamID) }) else { return }
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
}

/// What the placement audit saw in its last round, and what it reports (seen in two rounds in a row).
struct PlacementAuditState: Sendable {
    var previous: [PlacementAudit.Violation] = []
    var reported: [PlacementAudit.Violation] = []
}
