import Foundation
import RillGossip
import RillKinesis
import RillModel

extension Router: APIBackend {
    /// Event streams are served by the nodes that hold the shard's replicas; the router does not relay them.
    public func subscribe(_ request: APIRequest) async throws -> ShardSubscription {
        throw KinesisError(
            .invalidArgument,
            "SubscribeToShard is not relayed by routers; call it on a node's API address (see `rill status`).")
    }

    /// Ready once it knows the cluster and gossip shows a live node.
    public func readiness() async -> (ready: Bool, reason: String) {
        let alive = gossip.members.contains { $0.role == .node && $0.status.isAlive }
        return alive ? (true, "ready") : (false, "no live node in gossip yet")
    }

    /// The router's gossip view and the leaders it routes to, as JSON (`GET /admin/status`).
    public func adminStatus() async -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("node"); w.int(settings.id.rawValue)
        w.key("role"); w.string("router")
        w.key("zone"); w.string(settings.zone.rawValue)
        w.key("cluster"); w.string(clusterID)
        w.key("members")
        w.beginArray()
        for member in gossip.members {
            w.beginObject()
            w.key("id"); w.int(member.id.rawValue)
            w.key("zone"); w.string(member.zone.rawValue)
            w.key("role"); w.string("\(member.role)")
            w.key("state"); w.string(member.status.name)
            w.key("incarnation"); w.int(member.incarnation)
            w.key("peer"); w.string(member.peerAddress)
            w.key("api"); w.string(member.apiAddress)
            w.endObject()
        }
        w.endArray()
        w.key("groups"); w.beginArray(); w.endArray()
        w.endObject()
        return w.bytes
    }

    /// A router holds no replicas.
    public func replicaChecksums() async throws -> [UInt8] {
        Array(#"{"node":\#(settings.id.rawValue),"shards":[]}"#.utf8)
    }

    public var verifiesSignatures: Bool { settings.credentials != nil }

    public func authenticate(_ request: SigV4Verifier.Request) throws(KinesisError) -> String? {
        guard let verifier = settings.credentials else { return nil }
        return try verifier.verify(request, nowMillis: Int64(Date().timeIntervalSince1970 * 1000))
    }
}
