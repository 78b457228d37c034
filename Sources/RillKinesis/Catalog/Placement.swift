/// A voting node as the catalog knows it: enough to place replicas.
public struct ClusterMember: Codable, Sendable, Hashable {
    public var id: UInt64
    public var zone: String
    public init(id: UInt64, zone: String) {
        self.id = id
        self.zone = zone
    }
}

/// Where a shard's replicas live: one per zone, so that losing a zone loses at most one copy. A pure function
/// of the member list and the shard's placement ordinal, so every replica of the catalog computes the same.
public enum Placement {
    /// The replicas of the `ordinal`-th shard ever placed, preferred leader first.
    ///
    /// Zones rotate with the ordinal, so consecutive shards start in different zones and leadership spreads
    /// evenly; within a zone, members rotate too. With fewer zones than `count`, the remaining replicas come
    /// from members not yet chosen, so a one-zone test cluster still gets three copies.
    public static func replicas(members: [ClusterMember], ordinal: UInt64, count: Int = 3) -> [UInt64] {
        guard !members.isEmpty else { return [] }
        let byZone = Dictionary(grouping: members, by: \.zone).mapValues { $0.map(\.id).sorted() }
        let zones = byZone.keys.sorted()
        var chosen: [UInt64] = []
        for offset in 0..<min(count, zones.count) {
            let zone = zones[Int((ordinal + UInt64(offset)) % UInt64(zones.count))]
            let candidates = byZone[zone] ?? []
            chosen.append(candidates[Int((ordinal / UInt64(zones.count)) % UInt64(candidates.count))])
        }
        let rest = members.map(\.id).sorted().filter { !chosen.contains($0) }
        var position = rest.isEmpty ? 0 : Int(ordinal % UInt64(rest.count))
        while chosen.count < count, chosen.count < members.count {
            chosen.append(rest[position % rest.count])
            position += 1
        }
        return chosen
    }
}
