import Foundation
import Logging
import NIOCore
import NIOPosix
import RillAPI
import RillCluster
import RillGossip
import RillKinesis
import RillModel
import RillRaft
import RillReplication
import RillRouting
import RillStorage
import RillTransport
import Synchronization

/// A Rill node: its configuration, its start and shutdown, and the parts it owns and wires together: the shard
/// copies it holds (`ReplicaHost`), the way to each shard's leader (`ShardLeaders`), the Kinesis calls served
/// here or forwarded (`CallServer`, the services in `Services/`), its answers to peers (`PeerAnswerer`), the
/// controller's membership duties (`MembershipController`), on-demand scaling (`OnDemandRounds`), retention and
/// the admin endpoints. Leadership homecoming and the controller round stay here (`Node+Control.swift`).
/// This file runs a little over 400 lines because `init` is the wiring of those parts, one argument a line.
public final class Node: Sendable {
    public let configuration: NodeConfiguration
    let logger: Logger
    let clock: any WallClock
    let threadPool: NIOThreadPool
    let metadata: MetadataStore
    /// The key store and the data keys unwrapped from it (encryption at rest).
    public let recordKeys: RecordKeys
    let metrics: NodeMetrics
    /// Routes Raft messages between this node's groups and its peers.
    let registry: GroupRegistry
    /// The cluster this node belongs to; nil for a one-node cluster.
    let cluster: ClusterContext?
    /// Sends calls to the nodes that must serve them (leader choice and cache, retries); nil for a one-node
    /// cluster.
    let forwarder: Forwarder?
    /// Since when each group's preferred leader, led elsewhere from here, has been caught up (leader balancing).
    let preferredCaughtUpSince = Mutex<[RaftGroupID: ContinuousClock.Instant]>([:])
    /// The placement audit's last two findings (`auditPlacement`).
    let placementAudit: PlacementFindings
    /// The shard logs this node holds.
    let host: ReplicaHost
    /// Whether this node's catalog is known to be current since it started (`CatalogBarrier`).
    let barrier: CatalogBarrier
    /// Client calls, served here or forwarded.
    let calls: CallServer
    /// What this node answers its peers and routers.
    let peers: PeerAnswerer
    let membership: MembershipController
    /// On-demand scaling: the metadata leader's rounds.
    let scaling: OnDemandRounds
    let admin: AdminReport
    let faults: FaultInjector
    /// Trims shard logs past their stream's retention; the process runs it (`NodeRunner`).
    public let retention: RetentionEnforcer
    /// Signals that the catalog changed, so the replica set follows it.
    private let catalogChanged: AsyncStream<Void>.Continuation
    private let catalogChanges: AsyncStream<Void>
    /// The reconciler and controller loops; cancelled at shutdown.
    private let background = Mutex<[Task<Void, Never>]>([])

    var me: NodeID { configuration.id }

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
        let registry = GroupRegistry(
            transport: context?.transport,
            board: context.map { Forwarder.board(watching: $0.gossip) } ?? LeaderBoard()
        ) { _ in changed.yield() }
        let soleVoterExecutor: (any TaskExecutor)? = eventLoopGroup.map { EventLoopTaskExecutor($0.next()) }
        let metaPlan =
            context.map {
                GroupPlan.cluster(
                    voters: $0.voterIDs,
                    me: configuration.id,
                    cluster: $0,
                    registry: registry,
                    group: .meta
                )
            } ?? .soleVoter(configuration.id, taskExecutor: soleVoterExecutor)
        let raftMetrics = metrics.raft
        let metadata = try await MetadataStore.open(
            directory: root + "/meta",
            plan: metaPlan,
            stateLog: stateLog,
            flusher: flusher,
            logger: logger,
            registry: registry,
            onSnapshotInstalled: { [events = context?.events, me = configuration.id] in
                raftMetrics.snapshotInstalled()
                events?.record(
                    ClusterEvent.snapshotInstalled(
                        by: me.rawValue,
                        group: "meta",
                        atMillis: SystemWallClock().nowMillis()
                    )
                )
            },
            onEvent: { [events = context?.events] in events?.record($0) },
            onApplied: { changed.yield() }
        )
        // Every node of a cluster must be given the same store (`rill up` does); alone, a node makes its own.
        let recordKeys = try RecordKeys.open(
            path: configuration.keyStorePath ?? root + "/key-store.json",
            create: configuration.keyStorePath == nil
        )
        let node = Node(
            configuration: configuration,
            recordKeys: recordKeys,
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
            catalogChanged: changed,
            eventLoopGroup: eventLoopGroup
        )
        if let context {
            context.transport.onRaftMessages = { [weak registry] messages, _ in registry?.deliver(messages) }
            // A peer whose closed connection cannot be redialled is gone (kill -9 closes its sockets at once): the
            // followers of its groups campaign now rather than when gossip suspects it, a probe period or more later.
            context.transport.onPeerGone = { [weak registry] peer in registry?.wakeAll(MemberNews(isGone: peer)) }
            context.transport.setRequestHandler(
                { [weak peers = node.peers] peer, bytes in await peers?.answer(bytes, from: peer) ?? [] },
                servesOnEventLoop: PeerCall.isSmallWrite
            )
            // A member turning suspect or dead, or restarting, may be the leader a resting group waits on; the
            // followers of a member that may be gone campaign without waiting out a whole timeout. A member that
            // is back (a restart above all) is redialled at once, not at the end of a backoff grown while it was
            // down, and its leaders heartbeat until its replicas answer.
            context.gossip.observe { [weak registry, weak context] old, new in
                context?.learn(gossiped: new)
                let change = SWIM.MemberChange(old: old, new: new)
                guard change.livenessChanged else { return }
                if change.isBack { context?.transport.peerIsBack(new.id) }
                registry?.wakeAll(
                    MemberNews(mayBeGone: change.mayBeGone ? new.id : nil, isBack: change.isBack ? new.id : nil)
                )
            }
            context.gossip.start(seeds: context.settings.join)
        } else {
            try await node.initializeCatalog()
            // Alone, the node's metadata log is the whole catalog: complete once replayed.
            node.barrier.markCurrent()
        }
        node.host.setAsideOrphans()
        try await node.host.reconcile()
        node.startBackgroundLoops()
        return node
    }

    private init(
        configuration: NodeConfiguration,
        recordKeys: RecordKeys,
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
        catalogChanged: AsyncStream<Void>.Continuation,
        eventLoopGroup: (any EventLoopGroup)?
    ) {
        let me = configuration.id
        let forwarder = cluster.map { cluster in
            Forwarder(
                me: me,
                transport: cluster.transport,
                gossip: cluster.gossip,
                deadline: cluster.settings.forwardDeadline,
                events: Forwarder.Events(onRetry: { metrics.forwardRetried() }, onGiveUp: { metrics.forwardGaveUp() }),
                board: registry.board
            )
        }
        self.registry = registry
        self.cluster = cluster
        self.forwarder = forwarder
        self.catalogChanges = catalogChanges
        self.catalogChanged = catalogChanged
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.threadPool = threadPool
        self.metadata = metadata
        self.recordKeys = recordKeys
        self.metrics = metrics
        let placementAudit = PlacementFindings()
        self.placementAudit = placementAudit
        // The parts, each given what it needs and nothing of the node itself (so none keeps it alive).
        let proposals = CatalogProposals(me: me, metadata: metadata, clock: clock, forwarder: forwarder)
        let barrier = CatalogBarrier(me: me, metadata: metadata, proposals: proposals, logger: logger)
        let host = ReplicaHost(
            configuration: configuration,
            logger: logger,
            clock: clock,
            metrics: metrics,
            metadata: metadata,
            cluster: cluster,
            registry: registry,
            stateLog: stateLog,
            flusher: flusher,
            recordKeys: recordKeys,
            barrier: barrier,
            // A cluster's groups run on the peer loops (`GroupPlan.cluster`); a node alone's on these.
            soleVoterLoops: cluster == nil ? eventLoopGroup : nil
        )
        let producerWindows = ProducerWindows(
            me: me,
            metadata: metadata,
            host: host,
            forwarder: forwarder,
            logger: logger
        )
        let leaders = ShardLeaders(
            me: me,
            isCluster: cluster != nil,
            registry: registry,
            forwarder: forwarder,
            host: host,
            producerWindows: producerWindows,
            clock: clock,
            metrics: metrics
        )
        let services = NodeServices(
            metadata: metadata,
            configuration: configuration,
            clock: clock,
            metrics: metrics,
            logger: logger,
            recordKeys: recordKeys,
            host: host,
            leaders: leaders,
            threadPool: threadPool
        )
        let subscriptionLeases = SubscriptionLeases()
        let calls = CallServer(
            me: me,
            configuration: configuration,
            metadata: metadata,
            services: services,
            subscriptions: ShardSubscriptions(
                clock: clock,
                metadata: metadata,
                recordKeys: recordKeys,
                threadPool: threadPool,
                metrics: metrics,
                leaders: leaders,
                records: services.records,
                throughput: services.throughput,
                subscriptionLeases: subscriptionLeases
            ),
            metrics: metrics,
            clock: clock,
            forwarder: forwarder
        )
        let onDemand = OnDemandController(policy: configuration.onDemandPolicy, factory: metrics.factory)
        let scaling = OnDemandRounds(
            me: me,
            isCluster: cluster != nil,
            metadata: metadata,
            onDemand: onDemand,
            writes: services.records.onDemandWrites,
            streams: services.streams,
            forwarder: forwarder,
            clock: clock,
            logger: logger
        )
        let admin = AdminReport(
            me: me,
            configuration: configuration,
            cluster: cluster,
            metadata: metadata,
            clock: clock,
            metrics: metrics,
            placementAudit: placementAudit,
            onDemand: onDemand,
            host: host,
            subscriptionLeases: subscriptionLeases,
            threadPool: threadPool
        )
        let membership = MembershipController(
            me: me,
            metadata: metadata,
            clock: clock,
            logger: logger,
            cluster: cluster,
            host: host,
            leaders: leaders,
            proposals: proposals,
            forwarder: forwarder
        )
        self.host = host
        self.barrier = barrier
        self.calls = calls
        self.membership = membership
        self.scaling = scaling
        self.admin = admin
        self.faults = FaultInjector(
            me: me,
            configuration: configuration,
            transport: cluster?.transport,
            faultClock: faultClock,
            clock: clock,
            logger: logger
        )
        self.retention = RetentionEnforcer(metadata: metadata, host: host, clock: clock, logger: logger)
        self.peers = PeerAnswerer(
            configuration: configuration,
            logger: logger,
            clock: clock,
            metrics: metrics,
            metadata: metadata,
            cluster: cluster,
            host: host,
            calls: calls,
            admin: admin,
            producerWindows: producerWindows,
            membership: membership,
            proposals: proposals,
            scaling: scaling,
            throughput: services.throughput
        )
    }

    /// Stops every group (after the Ready each has in flight), then the storage threads.
    public func shutdown() async throws {
        let loops = background.withLock { $0 }
        catalogChanged.finish()
        for loop in loops { loop.cancel() }
        for loop in loops { await loop.value }
        await cluster?.stop()
        // Peers mark this node left at once instead of suspecting it for seconds.
        await cluster?.gossip.leave()
        await cluster?.transport.shutdown()
        await host.stopAll()
        await metadata.stop()
        try await threadPool.shutdownGracefully()
    }

    private func startBackgroundLoops() {
        let reconciler = Task { [weak self, catalogChanges] in
            for await _ in catalogChanges {
                guard let self else { return }
                do { try await self.host.reconcile() } catch {
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
        let scaling = Task { [weak self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: OnDemandController.interval) } catch { return }
                await self?.scaling.round()
            }
        }
        var loops = [reconciler, sampler, scaling]
        if cluster != nil {
            loops.append(Task { [barrier, host] in await barrier.confirm(settling: host) })
            loops.append(
                Task { [weak self] in
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: .milliseconds(250)) } catch { return }
                        await self?.controlOnce()
                    }
                }
            )
            loops.append(
                Task { [weak self] in
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: RestCheck.period) } catch { return }
                        await self?.checkRestingGroups()
                    }
                }
            )
        }
        background.withLock { $0 = loops }
    }
}
