import NIOPosix
import RillCluster
import RillGossip
import RillKinesis
import RillModel
import RillRaft
import RillReplication
import RillStorage
import Synchronization

/// What the node's admin endpoints report (`/ready`, `GET /admin/status`, `GET /admin/checksums`): its groups,
/// members, streams, subscriptions and traffic as this node sees them. The node owns one.
struct AdminReport: Sendable {
    let me: NodeID
    let configuration: NodeConfiguration
    /// The cluster this node belongs to; nil for a one-node cluster.
    let cluster: ClusterContext?
    let metadata: MetadataStore
    let clock: any WallClock
    let metrics: NodeMetrics
    /// The placement audit's last findings (`Node.auditPlacement` writes them).
    let placementAudit: PlacementFindings
    let onDemand: OnDemandController
    let host: ReplicaHost
    let subscriptionLeases: SubscriptionLeases
    /// The checksums read the logs on the storage threads.
    let threadPool: NIOThreadPool

    /// Whether this node can serve: its metadata group has a leader and the catalog carries the cluster's
    /// identity and members (for `/ready`).
    func readiness() async -> (ready: Bool, reason: String) {
        let status = await metadata.driver.status
        guard status.leader != nil else { return (false, "no metadata leader yet") }
        let catalog = metadata.catalog
        guard catalog.clusterID != nil, !catalog.iteratorKey.isEmpty else { return (false, "metadata not loaded yet") }
        // A stream created now must be placed: in a cluster, on every founder's zone.
        guard catalog.canPlace else { return (false, "no members recorded yet; new shards could not be placed") }
        if let cluster, catalog.members.count < min(3, cluster.voters.count) {
            return (
                false,
                "\(catalog.members.count) members recorded; new shards want \(min(3, cluster.voters.count)) replicas"
            )
        }
        return (true, "ready")
    }

    /// Every group on this node: role, leader, term and positions, as JSON (`GET /admin/status`).
    func adminStatus() async -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("node")
        w.int(Int(me.rawValue))
        w.key("zone")
        w.string(configuration.zone.rawValue)
        if let cluster {
            w.key("cluster")
            w.string(cluster.clusterID)
            w.key("members")
            writeMembers(cluster, into: &w)
            // Shards whose replicas are moving after a membership change; 0 once every move is done.
            w.key("movingShards")
            w.int(metadata.catalog.movingShards.count)
            w.key("removedNodes")
            Self.writeIDs(Set(metadata.catalog.removedMembers.map { NodeID($0) }), into: &w)
            w.key("placementViolations")
            writeViolations(placementAudit.withLock { $0.reported }, into: &w)
        }
        // The controller's recent on-demand decisions; only the metadata leader's are current.
        let metadataRole = await metadata.driver.status.role
        if cluster == nil || metadataRole == .leader {
            w.key("onDemandDecisions")
            writeOnDemandDecisions(onDemand.recent, into: &w)
        }
        w.key("groups")
        w.beginArray()
        write(group: "meta", stream: nil, shard: nil, await metadata.driver.status, into: &w)
        let names = streamNames()
        for replica in host.allReplicas() {
            write(
                group: "\(replica.streamID)/\(replica.shard.name)",
                stream: (replica.streamID, names[replica.streamID] ?? ""),
                shard: replica.shard,
                await replica.driver.status,
                into: &w
            )
        }
        w.endArray()
        w.key("consumerGroups")
        writeConsumerGroups(into: &w)
        // The time this answer was made, so the console can tell how old each node's view is.
        w.key("nowMillis")
        w.int(clock.nowMillis())
        cluster?.events.write(into: &w)
        writeStreams(into: &w)
        writeSubscriptions(into: &w)
        writeTraffic(into: &w)
        w.endObject()
        return w.bytes
    }

    /// The voters as founded, with their state in this node's gossip view, then every other member gossip knows
    /// (routers). A voter gossip has not heard from yet shows as `unknown`.
    private func writeMembers(_ cluster: ClusterContext, into w: inout JSONWriter) {
        let gossiped = Dictionary(
            cluster.gossip.members.map { ($0.id.rawValue, $0) },
            uniquingKeysWith: { _, new in new }
        )
        var rows:
            [(id: UInt64, zone: String, role: String, state: String, incarnation: UInt64?, peer: String, api: String)] =
                []
        for voter in cluster.members {
            let member = gossiped[voter.id]
            rows.append(
                (
                    voter.id, voter.zone, "node", member?.status.name ?? "unknown", member?.incarnation, voter.peer,
                    voter.api
                )
            )
        }
        for member in gossiped.values where !rows.contains(where: { $0.id == member.id.rawValue }) {
            rows.append(
                (
                    member.id.rawValue, member.zone.rawValue, "\(member.role)", member.status.name, member.incarnation,
                    member.peerAddress, member.apiAddress
                )
            )
        }
        w.beginArray()
        for row in rows.sorted(by: { $0.id < $1.id }) {
            AdminJSON.writeMember(
                id: row.id,
                zone: row.zone,
                role: row.role,
                state: row.state,
                incarnation: row.incarnation,
                peer: row.peer,
                api: row.api,
                into: &w
            )
        }
        w.endArray()
    }

    func streamNames() -> [String: String] {
        Dictionary(metadata.catalog.allStreams.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

    private func write(
        group: String,
        stream: (id: String, name: String)?,
        shard: ShardID?,
        _ status: RaftGroupDriver.Status,
        into w: inout JSONWriter
    ) {
        w.beginObject()
        w.key("group")
        w.string(group)
        if let stream, let shard {
            w.key("streamId")
            w.string(stream.id)
            w.key("stream")
            w.string(stream.name)
            w.key("shardId")
            w.string(shard.name)
        }
        w.key("role")
        w.string("\(status.role)")
        w.key("leader")
        if let leader = status.leader { w.int(Int(leader.rawValue)) } else { w.raw(Array("null".utf8)) }
        w.key("term")
        w.int(Int(status.term.rawValue))
        w.key("commit")
        w.int(Int(status.commit.rawValue))
        w.key("applied")
        w.int(Int(status.applied.rawValue))
        w.key("lastIndex")
        w.int(Int(status.lastIndex.rawValue))
        w.key("abstaining")
        w.bool(status.abstaining)
        w.key("resting")
        w.bool(status.resting)
        w.key("voters")
        Self.writeIDs(status.configuration.voters, into: &w)
        w.key("learners")
        Self.writeIDs(status.configuration.learners, into: &w)
        w.endObject()
    }

    private func writeViolations(_ violations: [PlacementAudit.Violation], into w: inout JSONWriter) {
        w.beginArray()
        for violation in violations {
            w.beginObject()
            w.key("stream")
            w.string(violation.stream)
            w.key("streamId")
            w.string(violation.streamID)
            if let shard = violation.shard {
                w.key("shardId")
                w.string(ShardID(index: shard).name)
            }
            if let node = violation.node {
                w.key("node")
                w.int(Int(node))
            }
            w.key("problem")
            w.string(violation.problem)
            w.endObject()
        }
        w.endArray()
    }

    private static func writeIDs(_ ids: Set<NodeID>, into w: inout JSONWriter) {
        w.beginArray()
        for id in ids.sorted() { w.int(Int(id.rawValue)) }
        w.endArray()
    }
}

/// What the placement audit saw in its last round, and what it reports (seen in two rounds in a row).
struct PlacementAuditState: Sendable {
    var previous: [PlacementAudit.Violation] = []
    var reported: [PlacementAudit.Violation] = []
}

/// The placement audit's last findings, shared by the node that writes them and the report that shows them (a
/// class: a `Mutex` cannot be copied into both).
final class PlacementFindings: Sendable {
    private let state = Mutex(PlacementAuditState())

    func withLock<T: Sendable>(_ body: (inout PlacementAuditState) -> T) -> T {
        state.withLock { body(&$0) }
    }
}
