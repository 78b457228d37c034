import Foundation
import RillAPI
import RillCluster
import RillGossip
import RillKinesis
import RillModel

extension Router: APIBackend {
    /// Event streams come from a node's replica; the HTTP layer relays the call to `subscriptionRelay`.
    public func subscribe(_ request: APIRequest) async throws -> any EventSubscription {
        throw KinesisError.internalFailure("a router relays SubscribeToShard to a node")
    }

    /// The API address of the node a subscription goes to: the shard's leader if known, else a replica that
    /// gossip shows alive, else any live node (whose answer is then the right error).
    public func subscriptionRelay(_ request: APIRequest) async throws -> String? {
        var group: RaftGroupID = .meta
        var replicas: [NodeID] = []
        if var r = try? RequestReader(bytes: request.body), let consumer = try? r.string("ConsumerARN"),
            let shardText = try? r.string("ShardId"), let shardID = ShardID(parsing: shardText),
            case .consumer(let arn, _, _)? = ResourceARN(parsing: consumer)
        {
            let stream = try await route(
                for: StreamSelector(name: arn.streamName, arn: arn),
                region: request.signedRegion
            ).stream
            group = .shard(streamID: stream.id, shard: shardID)
            replicas = stream.shard(shardID)?.replicas?.map { NodeID($0) } ?? []
        }
        let members = Dictionary(gossip.members.map { ($0.id, $0) }, uniquingKeysWith: { _, new in new })
        let ordered =
            forwarder.candidates(for: group, hint: nil).filter { replicas.isEmpty || replicas.contains($0) }
            + forwarder.candidates(for: .meta, hint: nil)
        for node in ordered {
            if let member = members[node], member.status.isAlive, member.role == .node { return member.apiAddress }
        }
        guard let voter = voters.first(where: { !forwarder.isDown(NodeID($0.id)) }) ?? voters.first else {
            throw KinesisError(.serviceUnavailable, "No node is known to serve the subscription; retry.")
        }
        return voter.api
    }

    /// Ready once gossip shows a live node and a node has said it is ready (a stream created now would be
    /// placed): the iterator key is only handed out then, and is kept.
    public func readiness() async -> (ready: Bool, reason: String) {
        let alive = gossip.members.contains { $0.role == .node && $0.status.isAlive }
        guard alive else { return (false, "no live node in gossip yet") }
        do {
            _ = try await currentIteratorKey()
        } catch {
            return (false, "no node is ready yet: \(error)")
        }
        return (true, "ready")
    }

    /// The router's gossip view and the leaders it routes to, as JSON (`GET /admin/status`).
    public func adminStatus() async -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("node")
        w.int(settings.id.rawValue)
        w.key("role")
        w.string("router")
        w.key("zone")
        w.string(settings.zone.rawValue)
        w.key("cluster")
        w.string(clusterID)
        w.key("members")
        w.beginArray()
        for member in gossip.members {
            AdminJSON.writeMember(
                id: member.id.rawValue,
                zone: member.zone.rawValue,
                role: "\(member.role)",
                state: member.status.name,
                incarnation: member.incarnation,
                peer: member.peerAddress,
                api: member.apiAddress,
                into: &w
            )
        }
        w.endArray()
        w.key("groups")
        w.beginArray()
        w.endArray()
        w.key("nowMillis")
        w.int(Int64(Date().timeIntervalSince1970 * 1000))
        events.write(into: &w)
        w.endObject()
        return w.bytes
    }

    /// A router holds no replicas.
    public func replicaChecksums() async throws -> [UInt8] {
        Array(#"{"node":\#(settings.id.rawValue),"shards":[]}"#.utf8)
    }

    /// Membership is the nodes' business; a router has none to change.
    public func removeMember(_ body: [UInt8]) async -> AdminAnswer {
        AdminAnswer(status: 400, message: "a router has no members to remove; send this to a node's --admin address")
    }

    public var verifiesSignatures: Bool { settings.credentials != nil }

    public func authorizeAdmin(_ principal: Principal, action: String) throws(KinesisError) {
        try settings.credentials?.authorizeAdmin(principal, action: action)
    }

    public func authenticate(
        _ request: SigV4Verifier.Request,
        secureTransport: Bool
    ) throws(KinesisError) -> (region: String, principal: Principal)? {
        guard let keys = settings.credentials else { return nil }
        return try keys.authenticate(
            request,
            nowMillis: Int64(Date().timeIntervalSince1970 * 1000),
            secureTransport: secureTransport
        )
    }

    /// A router records nothing itself: the nodes that served the calls answer, merged here.
    public func cloudWatchMetrics(_ selection: MetricSelection, region: String?) async -> MetricStore {
        await forwarder.clusterMetrics(local: MetricStore(), region: region, selection: selection, logger: logger)
    }
}
