import Foundation
import Logging
import NIOCore
import RillAPI
import RillCluster
import RillGossip
import RillKinesis
import RillMembership
import RillModel
import RillTransport
import Synchronization

/// A stateless front door: serves the Kinesis API by sending each call, over the internal RPC, to the node
/// that must serve it — the leader of the shard a record hashes to, or the metadata leader — in one hop.
/// It learns members and leaders by gossip, stream shard maps from any node, and corrects both from the
/// NotLeader answers it gets. Like a node's own forwarder it resends only what provably did not happen.
public final class Router: Sendable {
    let settings: RouterSettings
    let transport: PeerTransport
    let gossip: GossipAgent
    let logger: Logger
    let metrics: RouterMetrics
    let clusterID: String
    /// The founders: reachable before gossip has told us anything.
    let voters: [MemberAddress]
    /// Shard maps by stream, refreshed on a miss and after a reshard's redirect.
    let routes = Mutex<[RouteKey: StreamRoute]>([:])
    /// Leader choice, the leader cache, peer calls and their retries: the forwarder nodes use too.
    let forwarder: Forwarder
    /// The key shard iterators are sealed with (cluster-wide), once any node told us.
    let iteratorKey = Mutex<[UInt8]?>(nil)
    /// Members changing state as this router's gossip saw them, for `/admin/status` and the console.
    let events = ClusterEventRecorder()
    /// Samples the transport's counters into `metrics` once a second; cancelled by `shutdown()`.
    private let sampler = Mutex<Task<Void, Never>?>(nil)

    private init(
        settings: RouterSettings,
        transport: PeerTransport,
        gossip: GossipAgent,
        logger: Logger,
        metrics: RouterMetrics,
        clusterID: String,
        voters: [MemberAddress]
    ) {
        self.settings = settings
        self.transport = transport
        self.gossip = gossip
        self.logger = logger
        self.metrics = metrics
        self.clusterID = clusterID
        self.voters = voters
        self.forwarder = Forwarder(
            me: settings.id,
            transport: transport,
            gossip: gossip,
            deadline: settings.forwardDeadline,
            callTimeout: settings.callTimeout,
            events: Forwarder.Events(
                onForward: { metrics.forwarded.increment() },
                onRedirect: { metrics.redirected.increment() },
                onRetry: { metrics.retried.increment() },
                onGiveUp: { metrics.gaveUp.increment() }
            ),
            nodesByHealth: { Self.nodesByHealth(gossip: gossip, voters: voters) }
        )
    }

    /// Listens on the peer port, finds the cluster through `settings.join` (waiting until it has formed),
    /// then joins its gossip.
    public static func start(
        settings: RouterSettings,
        group: any EventLoopGroup,
        logger: Logger,
        metrics: RouterMetrics = RouterMetrics()
    ) async throws -> Router {
        var transportSettings = TransportSettings()
        transportSettings.faultInjection = settings.faultInjection
        transportSettings.clusterSecret = settings.clusterSecret
        transportSettings.tls = settings.peerTLS
        let transport = PeerTransport(
            nodeID: settings.id,
            clusterID: "",
            generation: UInt64.random(in: 1...UInt64.max),
            group: group,
            logger: logger,
            settings: transportSettings
        )
        _ = try await transport.listen(host: settings.peerHost, port: settings.peerPort)
        let (clusterID, voters) = try await discover(settings: settings, transport: transport, logger: logger)
        transport.adopt(clusterID: clusterID)
        let myself = SWIM.Member(
            id: settings.id,
            zone: settings.zone,
            role: .router,
            apiAddress: settings.advertisedAPI,
            peerAddress: settings.advertisedPeer,
            incarnation: GossipAgent.startingIncarnation()
        )
        let gossip = GossipAgent(
            transport: transport,
            myself: myself,
            settings: settings.gossip,
            tickLength: GossipDefaults.tickLength,
            seed: settings.id.rawValue,
            logger: logger
        )
        let router = Router(
            settings: settings,
            transport: transport,
            gossip: gossip,
            logger: logger,
            metrics: metrics,
            clusterID: clusterID,
            voters: voters
        )
        router.updatePeers()
        gossip.observe { [weak router] old, new in
            // Event times are the operator's wall time, like the log lines beside them.
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            if let event = ClusterEvent.memberChange(from: old, to: new, atMillis: now) { router?.events.record(event) }
            guard new.role == .node, old?.peerAddress != new.peerAddress else { return }
            router?.updatePeers()
        }
        gossip.start(seeds: settings.join)
        router.sampler.withLock { task in
            task = Task { [weak router] in
                while !Task.isCancelled {
                    do { try await Task.sleep(for: .seconds(1)) } catch { return }
                    guard let router else { return }
                    router.metrics.transport.sample(router.transport)
                }
            }
        }
        logger.info(
            "router joined the cluster",
            metadata: ["cluster": "\(clusterID)", "voters": "\(voters.map(\.id))"]
        )
        return router
    }

    /// Asks the join addresses until one names a formed cluster.
    private static func discover(
        settings: RouterSettings,
        transport: PeerTransport,
        logger: Logger
    ) async throws -> (String, [MemberAddress]) {
        let me = MemberAddress(
            id: settings.id.rawValue,
            zone: settings.zone.rawValue,
            peer: settings.advertisedPeer,
            api: settings.advertisedAPI,
            nonce: ""
        )
        let call = PeerCall.discover(me, clusterID: nil).encoded()
        var attempts = 0
        while true {
            try Task.checkCancellation()
            for address in settings.join {
                guard let (host, port) = HostPort.parse(address),
                    let bytes = try? await transport.request(call, toAddress: host, port: port, timeout: .seconds(1)),
                    case .discovered(let clusterID?, let voters, _)? = try? PeerAnswer(decoding: bytes), !voters.isEmpty
                else { continue }
                return (clusterID, voters)
            }
            attempts += 1
            if attempts % 20 == 1 {
                logger.info(
                    "waiting for the cluster to form",
                    metadata: ["join": "\(settings.join.joined(separator: ","))"]
                )
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    public func shutdown() async {
        sampler.withLock { $0 }?.cancel()
        await gossip.leave()
        await transport.shutdown()
    }

    // MARK: - Members

    /// Every node's peer address: the founders', overridden by what gossip says now.
    private func updatePeers() {
        var table: [NodeID: (host: String, port: Int)] = [:]
        for voter in voters {
            if let (host, port) = HostPort.parse(voter.peer) { table[NodeID(voter.id)] = (host, port) }
        }
        for member in gossip.members where member.role == .node && member.id != settings.id {
            if let (host, port) = HostPort.parse(member.peerAddress) { table[member.id] = (host, port) }
        }
        transport.setPeers(table)
    }

    /// Nodes to try, best first: alive ones in id order, then those gossip has not heard of or suspects.
    static func nodesByHealth(gossip: GossipAgent, voters: [MemberAddress]) -> [NodeID] {
        let members = Dictionary(gossip.members.map { ($0.id, $0) }, uniquingKeysWith: { _, new in new })
        let ids = Set(voters.map { NodeID($0.id) }).union(members.values.filter { $0.role == .node }.map(\.id))
        return ids.sorted().sorted { rank(members[$0]) < rank(members[$1]) }
    }

    private static func rank(_ member: SWIM.Member?) -> Int {
        guard let member else { return 1 }
        switch member.status {
        case .alive: return 0
        case .suspect: return 1
        case .dead, .left: return 2
        }
    }
}
