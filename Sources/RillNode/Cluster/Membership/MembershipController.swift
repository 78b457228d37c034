import Foundation
import Logging
import RillAPI
import RillCluster
import RillGossip
import RillKinesis
import RillModel
import RillRaft

/// The controller's membership duties (ARCHITECTURE "Zones and placement"): nodes that join a formed cluster
/// become members, removed members' replicas move (the catalog decides where, `Catalog+Members.swift`), and
/// every group's Raft membership follows the catalog one single-server change at a time. The node owns one;
/// its controller round (`Node.controlOnce`) runs it on the metadata leader.
struct MembershipController: Sendable {
    let me: NodeID
    let metadata: MetadataStore
    let clock: any WallClock
    let logger: Logger
    /// The cluster this node belongs to; nil for a one-node cluster.
    let cluster: ClusterContext?
    let host: ReplicaHost
    let leaders: ShardLeaders
    let proposals: CatalogProposals
    /// Sends to shard leaders; nil for a one-node cluster.
    let forwarder: Forwarder?

    /// How many moving shards the controller drives per round; each is one call to the shard's leader.
    static let movesPerRound = 32

    /// One round, on the metadata leader only.
    func manage(_ cluster: ClusterContext) async throws {
        // The decisions are `ControllerPlan`'s, shared with the cluster simulation; this does the I/O.
        let founders = cluster.voters.map { ClusterMember(id: $0.id, zone: $0.zone) }
        if let command = ControllerPlan.founding(metadata.catalog, founders: founders) {
            _ = try await metadata.propose(command, stampMillis: clock.nowMillis())
        }
        try await healUnplacedShards()
        try await admitNewNodes(cluster, metadata.catalog)
        await reconfigureMetadataGroup(metadata.catalog)
        try await driveShardMoves(metadata.catalog)
    }

    /// Nodes gossip sees alive that the catalog does not list become members (never a removed one).
    private func admitNewNodes(_ cluster: ClusterContext, _ catalog: Catalog) async throws {
        let alive = cluster.gossip.members.filter { $0.role == .node && $0.status.name == "alive" }
            .map { ClusterMember(id: $0.id.rawValue, zone: $0.zone.rawValue) }
        let (admit, refused) = ControllerPlan.admissions(catalog, alive: alive)
        for id in refused {
            logger.warning("a removed node is running; it is not taken back", metadata: ["to": "\(id)"])
        }
        for command in admit {
            if case .addMember(let member) = command {
                logger.info("a new node joins the cluster", metadata: ["to": "\(member.id)", "zone": "\(member.zone)"])
            }
            _ = try await metadata.propose(command, stampMillis: clock.nowMillis())
        }
    }

    /// The metadata group: up to three voters in distinct zones, every other member a learner (so every node
    /// holds the catalog). A removed node stays a learner while shards still move off it: it must read the
    /// `finishMove` that lets it delete its copies.
    private func reconfigureMetadataGroup(_ catalog: Catalog) async {
        let current = await metadata.driver.status.configuration
        guard let plan = ControllerPlan.metadataGroup(catalog, currentVoters: current.voters.map(\.rawValue)) else {
            return
        }
        let target = Raft.Reconfiguration(
            voters: Set(plan.voters.map { NodeID($0) }),
            learners: Set(plan.learners.map { NodeID($0) })
        )
        _ = await metadata.driver.reconfigure(toward: target)
    }

    /// Asks the leader of each moving shard for the next step; a shard whose group has reached its replicas
    /// leaves the moving set, and the nodes that left drop their copies.
    private func driveShardMoves(_ catalog: Catalog) async throws {
        for move in ControllerPlan.shardMoves(catalog, limit: Self.movesPerRound) {
            let (stream, shard, replicas) = (move.stream, move.shard, move.voters)
            let group = RaftGroupID.shard(streamID: stream.id, shard: shard.id)
            guard let reached = await stepShardMove(stream: stream, shard: shard, voters: replicas, group: group) else {
                continue
            }
            guard reached else { continue }
            logger.info(
                "a shard's replicas moved",
                metadata: ["rill.stream": "\(stream.name)", "rill.shard": "\(shard.id)", "to": "\(replicas)"]
            )
            _ = try await metadata.propose(
                .finishMove(streamID: stream.id, shard: shard.index),
                stampMillis: clock.nowMillis()
            )
        }
    }

    /// One step of one shard's move on its leader, here or by a call; nil when no leader answered.
    private func stepShardMove(
        stream: StreamMetadata,
        shard: ShardMetadata,
        voters: [UInt64],
        group: RaftGroupID
    ) async -> Bool? {
        let target = Raft.Reconfiguration(voters: Set(voters.map { NodeID($0) }))
        var hint: NodeID?
        if let replica = host.localReplica(streamID: stream.id, shard: shard.index) {
            switch await replica.driver.reconfigure(toward: target) {
            case .reached: return true
            case .moving: return false
            // A copy here that does not lead (a newcomer that has not heard from its leader yet knows no hint)
            // is no reason to stop: the leader is asked below.
            case .notLeader(let known): hint = known
            }
        }
        var candidate: NodeID? =
            if let hint, hint != me { hint } else { await leaders.leader(of: group, replicas: voters) }
        if candidate == nil || candidate == me {
            // This node's copy knows no leader: gossip's word, else the preferred replica (a healed shard's kept copy).
            candidate = cluster?.gossip.leadershipHints()[group]?.leader ?? voters.first.map { NodeID($0) }
        }
        guard let leader = candidate, leader != me else { return nil }
        let call = PeerCall.reconfigure(streamID: stream.id, shard: shard.index, voters: voters)
        guard case .answered(let answer)? = try? await forwarder?.send(call, to: leader, timeout: .seconds(2)) else {
            return nil
        }
        switch answer {
        case .reconfiguration(let reached): return reached
        case .notLeader(let hint):
            forwarder?.setLeader(hint.map { NodeID($0) }, of: group)
            return nil
        default: return nil
        }
    }

    /// Answers the controller's `reconfigure` call for a shard led here.
    func answerReconfigure(streamID: String, shard: UInt32, voters: [UInt64]) async -> PeerAnswer {
        guard let replica = host.localReplica(streamID: streamID, shard: shard) else { return .notLeader(hint: nil) }
        switch await replica.driver.reconfigure(toward: Raft.Reconfiguration(voters: Set(voters.map { NodeID($0) }))) {
        case .reached: return .reconfiguration(reached: true)
        case .moving: return .reconfiguration(reached: false)
        case .notLeader(let hint): return .notLeader(hint: hint?.rawValue)
        }
    }

    /// `POST /admin/members/remove` with `{"node": N}`: takes node N out of the cluster for good; its replicas
    /// move to other members, in its zone when one is there. Served by the metadata leader, wherever it is.
    func removeMember(_ body: [UInt8]) async -> AdminAnswer {
        guard cluster != nil else {
            return AdminAnswer(status: 400, message: "a one-node cluster has no members to remove")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let number = object["node"] as? NSNumber, number.int64Value > 0
        else { return AdminAnswer(status: 400, message: "expected {\"node\": N} with N a node id") }
        let id = UInt64(number.int64Value)
        do {
            try await proposals.proposeToMetadataLeader(.removeMember(id: id))
        } catch let error as KinesisError {
            let status = error.code == .resourceNotFound ? 404 : error.code == .invalidArgument ? 400 : 503
            return AdminAnswer(status: status, message: error.message ?? error.code.rawValue)
        } catch {
            return AdminAnswer(status: 503, message: "\(error)")
        }
        let moving = metadata.catalog.movingShards.count
        logger.warning("node removed from the cluster", metadata: ["to": "\(id)", "moving": "\(moving)"])
        cluster?.events.record(
            ClusterEvent(
                timeMillis: clock.nowMillis(),
                kind: .memberRemoved,
                member: id,
                detail: "\(moving) shards moving to other members"
            )
        )
        return AdminAnswer(
            status: 200,
            message: "node \(id) removed; its replicas move to other members (watch /admin/status)"
        )
    }

    /// On the controller: places every shard that has no placement yet, once the catalog has members
    /// (`ReplicaHost.setAsideCopyFromBeforeHeal` tells why).
    func healUnplacedShards() async throws {
        let catalog = metadata.catalog
        guard let command = ControllerPlan.healing(catalog) else { return }
        for (stream, shard) in catalog.unplacedShards {
            logger.warning(
                "placing a shard created without a placement; the placement's preferred leader keeps its copy",
                metadata: ["rill.stream": "\(stream.name)", "rill.shard": "\(shard.id)"]
            )
        }
        _ = try await metadata.propose(command, stampMillis: clock.nowMillis())
    }
}
