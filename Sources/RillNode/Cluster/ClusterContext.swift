import Foundation
import Logging
import NIOCore
import RillCluster
import RillGossip
import RillMembership
import RillModel
import RillTransport
import Synchronization

/// This node's membership of a multi-node cluster: the peer transport, the founders (the voting nodes) and
/// the addresses peers last told us.
final class ClusterContext: Sendable {
    let settings: ClusterSettings
    let transport: PeerTransport
    let clusterID: String
    let me: MemberAddress
    /// The founders: the metadata group's voters at formation (later changes are in its log and the catalog).
    let voters: [MemberAddress]
    /// Membership and liveness of every node and router, by SWIM gossip on the peer port.
    let gossip: GossipAgent
    private let addresses: Mutex<[UInt64: MemberAddress]>
    /// Nodes gossip currently sees alive: an idle follower rests only while its leader is among them.
    private let aliveNodes = Mutex<Set<NodeID>>([])
    /// node.json as last saved, for clearing `rejoining`.
    private let identity: Mutex<NodeIdentity>
    private let directory: String
    /// What this node saw happen (members changing state, leaders, snapshots), for `/admin/status` and the console.
    let events = ClusterEventRecorder()
    /// The address refresh a restarted node starts; `stop` cancels and awaits it.
    private let refreshing = Mutex<Task<Void, Never>?>(nil)

    private init(
        settings: ClusterSettings,
        transport: PeerTransport,
        clusterID: String,
        me: MemberAddress,
        voters: [MemberAddress],
        identity: NodeIdentity,
        directory: String,
        logger: Logger
    ) {
        self.identity = Mutex(identity)
        self.directory = directory
        self.settings = settings
        self.transport = transport
        self.clusterID = clusterID
        self.me = me
        self.voters = voters
        self.addresses = Mutex(Dictionary(voters.map { ($0.id, $0) }, uniquingKeysWith: { _, new in new }))
        self.addresses.withLock { $0[me.id] = me }
        transport.setPeers(Self.peerTable(addresses.withLock { $0 }))
        let myself = SWIM.Member(
            id: NodeID(me.id),
            zone: Zone(me.zone),
            role: .node,
            apiAddress: me.api,
            peerAddress: me.peer,
            incarnation: GossipAgent.startingIncarnation()
        )
        self.gossip = GossipAgent(
            transport: transport,
            myself: myself,
            settings: settings.gossip,
            tickLength: GossipDefaults.tickLength,
            seed: identity.generation ^ me.id,
            logger: logger
        )
        // Weak: the context owns the gossip agent that keeps this closure.
        gossip.observe { [weak self, events] old, member in
            self?.aliveNodes.withLock { alive in
                if case .alive = member.status { alive.insert(member.id) } else { alive.remove(member.id) }
            }
            // Event times are the operator's wall time, like the log lines beside them.
            if let event = ClusterEvent.memberChange(from: old, to: member, atMillis: SystemWallClock().nowMillis()) {
                events.record(event)
            }
        }
    }

    /// Whether gossip sees `node` alive now (this node always is).
    func isAlive(_ node: NodeID) -> Bool {
        node.rawValue == me.id || aliveNodes.withLock { $0.contains(node) }
    }

    var voterIDs: [NodeID] { voters.map { NodeID($0.id) } }

    /// Whether this node lost its disk and its groups still abstain (see `NodeIdentity.rejoining`).
    var rejoining: Bool { identity.withLock { $0.rejoining ?? false } }

    /// Every group has caught up since the disk was lost: votes count again, also after a restart.
    func finishRejoining() throws {
        var updated = identity.withLock { $0 }
        guard updated.rejoining == true else { return }
        updated.rejoining = nil
        try updated.save(in: directory)
        identity.withLock { $0 = updated }
    }

    /// Takes in a node's current address (it may have moved since the founding, or joined since).
    func learn(_ member: MemberAddress) {
        // Routers discover too (without a nonce); only nodes' addresses are ours to track.
        guard member.id != me.id, !member.nonce.isEmpty || voters.contains(where: { $0.id == member.id }) else {
            return
        }
        let table = addresses.withLock { table -> [UInt64: MemberAddress]? in
            guard table[member.id] != member else { return nil }
            table[member.id] = member
            return table
        }
        if let table { transport.setPeers(Self.peerTable(table)) }
    }

    /// Takes in a node's addresses as gossip has them (a node that joined after the founding is known this way).
    func learn(gossiped member: SWIM.Member) {
        guard member.role == .node, member.id.rawValue != me.id else { return }
        let table = addresses.withLock { table -> [UInt64: MemberAddress]? in
            let known = table[member.id.rawValue]
            guard known?.peer != member.peerAddress || known?.api != member.apiAddress else { return nil }
            table[member.id.rawValue] = MemberAddress(
                id: member.id.rawValue,
                zone: member.zone.rawValue,
                peer: member.peerAddress,
                api: member.apiAddress,
                nonce: known?.nonce ?? ""
            )
            return table
        }
        if let table { transport.setPeers(Self.peerTable(table)) }
    }

    var members: [MemberAddress] { addresses.withLock { Array($0.values) }.sorted { $0.id < $1.id } }

    private static func peerTable(_ table: [UInt64: MemberAddress]) -> [NodeID: (host: String, port: Int)] {
        var peers: [NodeID: (host: String, port: Int)] = [:]
        for (id, member) in table {
            guard let (host, port) = HostPort.parse(member.peer) else { continue }
            peers[NodeID(id)] = (host, port)
        }
        return peers
    }

    /// Starts the transport and finds the cluster: the one node.json names, or one formed or joined now
    /// through `--join` (recorded in node.json before anything else happens).
    static func establish(
        settings: ClusterSettings,
        identity: inout NodeIdentity,
        directory: String,
        group: any EventLoopGroup,
        logger: Logger
    ) async throws -> ClusterContext {
        let me = MemberAddress(
            id: identity.nodeID,
            zone: identity.zone,
            peer: settings.advertisedPeer,
            api: settings.advertisedAPI,
            nonce: identity.nonce ?? ""
        )
        var transportSettings = TransportSettings()
        transportSettings.faultInjection = settings.faultInjection
        transportSettings.clusterSecret = settings.clusterSecret
        transportSettings.tls = settings.peerTLS
        let transport = PeerTransport(
            nodeID: NodeID(identity.nodeID),
            clusterID: identity.cluster?.id ?? "",
            generation: identity.generation,
            group: group,
            logger: logger,
            settings: transportSettings
        )
        let formation = Mutex(Formation(me: me, expect: settings.bootstrapExpect))
        let formed = Mutex<NodeIdentity.ClusterRecord?>(identity.cluster)
        // Until the node itself is up, discovery is all this node answers.
        transport.setRequestHandler { _, bytes in
            guard case .discover(let member, _)? = try? PeerCall(decoding: bytes) else { return [] }
            if let record = formed.withLock({ $0 }) {
                return PeerAnswer.discovered(clusterID: record.id, voters: record.voters, known: record.voters)
                    .encoded()
            }
            let known = formation.withLock { formation in
                formation.learn(member)
                return Array(formation.known.values)
            }
            return PeerAnswer.discovered(clusterID: nil, voters: [], known: known).encoded()
        }
        _ = try await transport.listen(host: settings.peerHost, port: settings.peerPort)

        if let record = identity.cluster {
            let context = ClusterContext(
                settings: settings,
                transport: transport,
                clusterID: record.id,
                me: me,
                voters: record.voters,
                identity: identity,
                directory: directory,
                logger: logger
            )
            // Addresses may have changed while this node was down; ask, but do not wait for an answer.
            context.startRefreshingAddresses(logger: logger)
            return context
        }

        logger.info(
            "looking for the cluster",
            metadata: ["join": "\(settings.join)", "bootstrapExpect": "\(settings.bootstrapExpect)"]
        )
        var warnedTooMany = false
        var outcome: Formation.Outcome?
        while outcome == nil {
            try Task.checkCancellation()
            for address in settings.join where address != settings.advertisedPeer {
                guard let (host, port) = HostPort.parse(address) else { continue }
                let call = PeerCall.discover(me, clusterID: nil).encoded()
                guard let bytes = try? await transport.request(call, toAddress: host, port: port, timeout: .seconds(1)),
                    let answer = try? PeerAnswer(decoding: bytes)
                else { continue }
                if case .removed(let clusterID) = answer {
                    throw ClusterError(
                        description:
                            "node \(me.id) was removed from cluster \(clusterID) and cannot join it again; start this node with a new --id"
                    )
                }
                if let decided = formation.withLock({ $0.learn(answer) }) {
                    outcome = decided
                    break
                }
            }
            if outcome == nil { outcome = formation.withLock { $0.outcome } }
            if outcome == nil, !warnedTooMany, formation.withLock({ $0.tooMany }) {
                warnedTooMany = true
                logger.error(
                    "more nodes than --bootstrap-expect are forming a cluster together; nothing forms until that is fixed"
                )
            }
            if outcome == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        let record: NodeIdentity.ClusterRecord
        switch outcome {
        case .formed(let clusterID, let voters):
            record = NodeIdentity.ClusterRecord(id: clusterID, voters: voters)
            logger.info("formed a new cluster", metadata: ["cluster": "\(clusterID)", "voters": "\(voters.map(\.id))"])
        case .joined(let clusterID, let voters):
            record = NodeIdentity.ClusterRecord(id: clusterID, voters: voters)
            // A node the founders do not include joins as a new member: the controller admits it once gossip sees
            // it, as a learner of every group it gets, voting only after catching up. It abstains like a wiped node
            // until then, because the cluster may have known this id before (a removed node is refused by the
            // controller, not here: only the catalog knows).
            guard voters.contains(where: { $0.id == me.id }) else {
                identity.rejoining = true
                logger.info(
                    "joining a formed cluster as a new node",
                    metadata: ["cluster": "\(clusterID)", "founders": "\(voters.map(\.id))"]
                )
                break
            }
            // The founders' record carries each founder's nonce: ours means the others merely formed the cluster
            // first. Another nonce under our id means this directory is new: the disk was wiped or replaced,
            // votes and acknowledged entries forgotten, so no group may vote until caught up (ARCHITECTURE.md).
            if voters.contains(me) {
                logger.info("joined the cluster the other founders formed", metadata: ["cluster": "\(clusterID)"])
                break
            }
            identity.rejoining = true
            logger.warning(
                "this node's data directory is empty but the cluster knows it: rejoining, without a vote until caught up",
                metadata: ["cluster": "\(clusterID)", "voters": "\(voters.map(\.id))"]
            )
        case nil:
            preconditionFailure("the loop ends only with an outcome")
        }
        identity.cluster = record
        try identity.save(in: directory)
        formed.withLock { $0 = record }
        transport.adopt(clusterID: record.id)
        return ClusterContext(
            settings: settings,
            transport: transport,
            clusterID: record.id,
            me: me,
            voters: record.voters,
            identity: identity,
            directory: directory,
            logger: logger
        )
    }

    /// Starts `refreshAddresses` in the background, owned by this context until `stop`.
    func startRefreshingAddresses(logger: Logger) {
        refreshing.withLock { $0 = Task { await self.refreshAddresses(logger: logger) } }
    }

    /// Cancels the background refresh, if one runs, and waits for it to end.
    func stop() async {
        let task = refreshing.withLock { task in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
    }

    /// Asks the `--join` addresses for the members' current addresses.
    func refreshAddresses(logger: Logger) async {
        for address in settings.join where address != settings.advertisedPeer {
            if Task.isCancelled { return }
            guard let (host, port) = HostPort.parse(address) else { continue }
            let call = PeerCall.discover(me, clusterID: clusterID).encoded()
            guard let bytes = try? await transport.request(call, toAddress: host, port: port, timeout: .seconds(1)),
                let answer = try? PeerAnswer(decoding: bytes)
            else { continue }
            if case .removed(let clusterID) = answer, clusterID == self.clusterID {
                // Its groups no longer count it, so it could serve nothing; say so rather than wait forever.
                logger.critical(
                    "this node was removed from the cluster; it exits. Delete its data directory to reuse the machine under a new --id",
                    metadata: ["cluster": "\(clusterID)"]
                )
                exit(78)
            }
            guard case .discovered(let clusterID, _, let known) = answer else { continue }
            guard clusterID == self.clusterID else {
                logger.error("a --join address belongs to another cluster", metadata: ["address": "\(address)"])
                continue
            }
            for member in known { learn(member) }
        }
    }
}

/// The node cannot take part in the cluster its peers form.
struct ClusterError: Error, CustomStringConvertible {
    var description: String
}
