import Foundation
import RillKinesis
import RillModel
import RillRaft

extension Node {
    /// A one-node cluster's first start: the catalog gets its UUID and iterator key, and this node as its
    /// only member.
    func initializeCatalog() async throws {
        if metadata.catalog.clusterID == nil {
            _ = try await metadata.propose(
                .initialize(clusterID: UUID().uuidString.lowercased(), iteratorKey: Self.randomKey()), stampMillis: clock.nowMillis())
        }
        let members = [ClusterMember(id: me.rawValue, zone: configuration.zone.rawValue)]
        if metadata.catalog.members != members {
            _ = try await metadata.propose(.setMembers(members), stampMillis: clock.nowMillis())
        }
    }

    /// One round of the controller's duties, done only by the metadata leader: the catalog carries the
    /// cluster's UUID, iterator key and members; shard leadership goes back to preferred replicas.
    func controlOnce() async {
        guard let cluster, await metadata.driver.status.role == .leader else { return }
        do {
            let catalog = metadata.catalog
            if catalog.clusterID == nil {
                _ = try await metadata.propose(
                    .initialize(clusterID: cluster.clusterID, iteratorKey: Self.randomKey()), stampMillis: clock.nowMillis())
            }
            let members = cluster.voters.map { ClusterMember(id: $0.id, zone: $0.zone) }.sorted { $0.id < $1.id }
            if catalog.members != members {
                _ = try await metadata.propose(.setMembers(members), stampMillis: clock.nowMillis())
            }
        } catch {
            logger.debug("controller round did not finish", metadata: ["error": "\(error)"])
        }
    }

    static func randomKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in generator.next() }
    }
}
