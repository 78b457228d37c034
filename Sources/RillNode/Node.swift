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
    let openings = NIOLockedValueBox<[String: Task<ShardReplica, any Error>]>([:])
    let metadata: MetadataStore
    /// The key store and the data keys unwrapped from it (encryption at rest).
    public let recordKeys: RecordKeys
    let metrics: NodeMetrics
    /// Shard logs by stream id, then shard index.
    let replicas = NIOLockedValueBox<[String: [UInt32: ShardReplica]]>([:])
    /// Set once this node's catalog is known to be current (`confirmCatalog`); from the start in a one-node
    /// cluster.
    let catalogConfirmed = NIOLockedValueBox(false)
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
    /// On-demand scaling: the metadata leader's windows, scalers and recent decisions (`Node+Scaling`).
    let onDemand: OnDemandController
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
            // Alone, the node's metadata log is the whole catalog: complete once replayed.
            node.catalogConfirmed.withLockedValue { $0 = true }
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
        var plan = GroupPlan(
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
        plan.onLeadershipChange = { [events = cluster.events] leads, term in
            events.record(
                ClusterEvent(
                    timeMillis: SystemWallClock().nowMillis(),
                    kind: leads ? .becameLeader : .steppedDown,
                    member: me.rawValue,
                    group: "\(group)",
                    term: term.rawValue
                )
            )
        }
        return plan
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
        self.recordKeys = recordKeys
        self.metrics = metrics
        self.onDemand = OnDemandController(policy: configuration.onDemandPolicy, factory: metrics.factory)
        let link = NodeLink()
        services = NodeServices(
            metadata: metadata,
            configuration: configuration,
            clock: clock,
            metrics: metrics,
            logger: logger,
            recordKeys: recordKeys,
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
        await cluster?.stop()
        // Peers mark this node left at once instead of suspecting it for seconds.
        await cluster?.gossip.leave()
        await cluster?.transport.shutdown()
        let all = replicas.withLockedValue { table in table.values.flatMap(\.values) }
        for replica in all { await replica.stop() }
        await metadata.stop()
        try await threadPool.shutdownGracefully()
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
        let scaling = Task { [weak self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: OnDemandController.interval) } catch { return }
                await self?.scaleOnDemandStreams()
            }
        }
        var loops = [reconciler, sampler, scaling]
        if cluster != nil {
            loops.append(Task { [weak self] in await self?.confirmCatalog() })
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
}

/// What the placement audit saw in its last round, and what it reports (seen in two rounds in a row).
struct PlacementAuditState: Sendable {
    var previous: [PlacementAudit.Violation] = []
    var reported: [PlacementAudit.Violation] = []
}
