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

extension Placement {
    /// `current` plus members until it has `count` replicas: first from zones it does not cover yet (`preferZone`
    /// first: a replacement stays in the zone of the node it replaces), then the least loaded, then the lowest id.
    /// `load` counts the replicas each member holds and is updated with the picks.
    public static func refill(
        _ current: [UInt64],
        members: [ClusterMember],
        count: Int,
        load: inout [UInt64: Int],
        preferZone: String? = nil
    ) -> [UInt64] {
        var chosen = current.filter { id in members.contains { $0.id == id } }
        let zoneOf = Dictionary(members.map { ($0.id, $0.zone) }, uniquingKeysWith: { first, _ in first })
        while chosen.count < min(count, members.count) {
            let covered = Set(chosen.compactMap { zoneOf[$0] })
            let candidates = members.filter { !chosen.contains($0.id) }
            guard
                let pick = candidates.min(by: { a, b in
                    let left = (
                        covered.contains(a.zone) ? 1 : 0, a.zone == preferZone ? 0 : 1, load[a.id, default: 0], a.id
                    )
                    let right = (
                        covered.contains(b.zone) ? 1 : 0, b.zone == preferZone ? 0 : 1, load[b.id, default: 0], b.id
                    )
                    return left < right
                })
            else { break }
            chosen.append(pick.id)
            load[pick.id, default: 0] += 1
        }
        return chosen
    }

    /// The voters of the metadata group: up to three members in distinct zones where possible, keeping the
    /// current voters that are still members so that membership changes as little as it can.
    public static func metadataVoters(members: [ClusterMember], current: [UInt64], count: Int = 3) -> [UInt64] {
        let sorted = members.sorted { $0.id < $1.id }
        let incumbents = sorted.filter { current.contains($0.id) }
        let others = sorted.filter { !current.contains($0.id) }
        var chosen: [ClusterMember] = []
        func take(_ pool: [ClusterMember], newZonesOnly: Bool) {
            for member in pool where chosen.count < count && !chosen.contains(member) {
                if newZonesOnly && chosen.contains(where: { $0.zone == member.zone }) { continue }
                chosen.append(member)
            }
        }
        take(incumbents, newZonesOnly: true)
        take(others, newZonesOnly: true)
        take(incumbents, newZonesOnly: false)
        take(others, newZonesOnly: false)
        return chosen.map(\.id).sorted()
    }
}
