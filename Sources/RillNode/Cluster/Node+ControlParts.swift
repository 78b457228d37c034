import RillKinesis
import RillModel

// What `Node+Control.swift` (leadership homecoming, the controller round) reaches through the node: it stays an
// extension of `Node` this session while another change to it is under way, so these keep its calls as they were.
extension Node {
    func allReplicas() -> [ShardReplica] { host.allReplicas() }

    func holds(_ shard: ShardMetadata) -> Bool { host.holds(shard) }

    func localReplica(streamID: String, shard: UInt32) -> ShardReplica? {
        host.localReplica(streamID: streamID, shard: shard)
    }

    func manageMembership(_ cluster: ClusterContext) async throws { try await membership.manage(cluster) }
}
