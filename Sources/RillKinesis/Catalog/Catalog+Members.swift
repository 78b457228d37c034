/// Membership changes of a formed cluster: what moves where is decided here, in the applied command, so every
/// replica of the catalog agrees; the shard leaders then change their groups to match (`leaving` marks the
/// shards whose move is under way).
extension Catalog {
    mutating func addMember(_ member: ClusterMember) -> Result<Void, KinesisError> {
        guard !removedMembers.contains(member.id) else {
            return .failure(
                KinesisError(
                    .invalidArgument,
                    "Node \(member.id) was removed from the cluster; give the new node another id."
                )
            )
        }
        guard !members.contains(where: { $0.id == member.id }) else { return .success(()) }
        members.append(member)
        members.sort { $0.id < $1.id }
        // Shards placed while there were fewer members (or zones) than replicas get their missing copies now.
        var load = replicaLoad()
        let wanted = min(3, members.count)
        let members = members
        forEachShard { shard in
            guard let replicas = shard.replicas, replicas.count < wanted else { return }
            let filled = Placement.refill(replicas, members: members, count: wanted, load: &load)
            guard filled != replicas else { return }
            shard.initialReplicas = shard.initialReplicas ?? replicas
            shard.replicas = filled
            shard.leaving = shard.leaving ?? []
        }
        rebalance(zone: member.zone)
        return .success(())
    }

    /// Moves replicas from the busiest member of `zone` to the idlest until they differ by at most one, so a
    /// node that joins takes its share of the zone's shards (and, since it takes the leaver's place in each
    /// list, its share of preferred leaders). Shards already moving are left alone.
    private mutating func rebalance(zone: String) {
        let ids = members.filter { $0.zone == zone }.map(\.id)
        guard ids.count > 1 else { return }
        var load = replicaLoad()
        // Bounded: every pass moves one replica from a member above the mean to one below it.
        for _ in 0..<allStreams.reduce(0, { $0 + $1.shards.count }) {
            let ordered = ids.sorted { (load[$0, default: 0], $0) < (load[$1, default: 0], $1) }
            guard let idlest = ordered.first, let busiest = ordered.last,
                load[busiest, default: 0] - load[idlest, default: 0] > 1
            else { return }
            var moved = false
            forEachShard { shard in
                guard !moved, shard.leaving == nil, let replicas = shard.replicas,
                    let position = replicas.firstIndex(of: busiest),
                    !replicas.contains(idlest)
                else { return }
                var next = replicas
                next[position] = idlest
                shard.initialReplicas = shard.initialReplicas ?? replicas
                shard.replicas = next
                shard.leaving = [busiest]
                moved = true
            }
            guard moved else { return }
            load[busiest, default: 0] -= 1
            load[idlest, default: 0] += 1
        }
    }

    mutating func removeMember(_ id: UInt64) -> Result<Void, KinesisError> {
        guard let gone = members.first(where: { $0.id == id }) else {
            return .failure(KinesisError(.resourceNotFound, "Node \(id) is not a member of the cluster."))
        }
        guard members.count > 1 else {
            return .failure(KinesisError(.invalidArgument, "Node \(id) is the cluster's last member."))
        }
        members.removeAll { $0.id == id }
        removedMembers.append(id)
        var load = replicaLoad()
        let members = members
        forEachShard { shard in
            guard let replicas = shard.replicas, let position = replicas.firstIndex(of: id) else { return }
            var kept = replicas
            kept.remove(at: position)
            // The replacement takes the leaver's place in the list, so a preferred leader stays preferred.
            let filled = Placement.refill(
                kept,
                members: members,
                count: replicas.count,
                load: &load,
                preferZone: gone.zone
            )
            var next = kept
            if let newcomer = filled.first(where: { !kept.contains($0) }) { next.insert(newcomer, at: position) }
            shard.initialReplicas = shard.initialReplicas ?? replicas
            shard.replicas = next
            shard.leaving = Array(Set((shard.leaving ?? []) + [id])).sorted()
        }
        return .success(())
    }

    mutating func finishMove(streamID: String, shard index: UInt32) -> Result<Void, KinesisError> {
        var found = false
        forEachShardWithStream { stream, shard in
            guard stream == streamID, shard.index == index else { return }
            shard.leaving = nil
            found = true
        }
        return found
            ? .success(()) : .failure(KinesisError(.resourceNotFound, "No shard \(index) in stream \(streamID)."))
    }

    /// Places the shards that have none (see `CatalogCommand.healUnplacedShards`). The copy kept is the one
    /// the placement makes preferred leader; the group starts as that copy alone (`initialReplicas`) and moves
    /// to the placed replicas, so the controller's move machinery grows it one member at a time.
    mutating func healUnplacedShards() -> Result<Void, KinesisError> {
        guard canPlace else { return .failure(Self.notPlaceable) }
        // Placements first (they advance the ordinal), in the fixed shard order, then written in.
        var placements: [[UInt64]] = []
        forEachShard { shard in
            if shard.replicas == nil { placements.append([]) }
        }
        placements = placements.compactMap { _ in placeNextShard() }
        var next = placements.makeIterator()
        forEachShard { shard in
            guard shard.replicas == nil, let placed = next.next() else { return }
            shard.replicas = placed
            shard.initialReplicas = [placed[0]]
            shard.healedFrom = placed[0]
            shard.leaving = []
        }
        return .success(())
    }

    /// Shards that no placement chose replicas for.
    public var unplacedShards: [(stream: StreamMetadata, shard: ShardMetadata)] {
        allStreams.flatMap { stream in stream.shards.filter { $0.replicas == nil }.map { (stream, $0) } }
    }

    /// Shards whose group is moving to a new membership, with the stream they belong to.
    public var movingShards: [(stream: StreamMetadata, shard: ShardMetadata)] {
        allStreams.flatMap { stream in stream.shards.filter { $0.leaving != nil }.map { (stream, $0) } }
    }

    /// How many replicas each member holds: a replacement goes to the least loaded candidate.
    private func replicaLoad() -> [UInt64: Int] {
        var load: [UInt64: Int] = [:]
        for stream in allStreams {
            for shard in stream.shards { for id in shard.replicas ?? [] { load[id, default: 0] += 1 } }
        }
        return load
    }

    private mutating func forEachShard(_ body: (inout ShardMetadata) -> Void) {
        forEachShardWithStream { _, shard in body(&shard) }
    }

    /// Visits shards in a fixed order (namespace, stream name, shard), so every replica applies the same moves.
    private mutating func forEachShardWithStream(_ body: (String, inout ShardMetadata) -> Void) {
        for namespace in streams.keys.sorted(by: { "\($0)" < "\($1)" }) {
            for name in (streams[namespace] ?? [:]).keys.sorted() {
                guard var stream = streams[namespace]?[name] else { continue }
                for position in stream.shards.indices { body(stream.id, &stream.shards[position]) }
                streams[namespace]?[name] = stream
            }
        }
    }
}
