/// A consumer group's leases: the state machine every replica applies, and the balancing a worker runs to
/// decide what to ask for. Pure: no clocks, no I/O; time arrives inside commands.
public struct LeaseTable: Sendable, Equatable, Codable {
    public private(set) var leases: [String: Lease] = [:]

    public init() {}

    /// Applies a command, or refuses it leaving the table unchanged.
    @discardableResult
    public mutating func apply(_ command: LeaseCommand) -> Result<Lease?, LeaseRefusal> {
        switch command {
        case .syncShards(let shards, _):
            let present = Set(shards.map(\.shardID))
            for shard in shards where leases[shard.shardID] == nil {
                leases[shard.shardID] = Lease(shardID: shard.shardID, parents: shard.parents, checkpoint: .initial)
            }
            for id in leases.keys where !present.contains(id) { leases[id] = nil }
            return .success(nil)

        case .take(let id, let worker, let expected, let now, let duration):
            guard var lease = leases[id] else { return .failure(.unknownShard(id)) }
            guard lease.token == expected else { return .failure(.tokenMismatch(current: lease.token)) }
            let unfinished = unfinishedParents(of: lease)
            guard unfinished.isEmpty else { return .failure(.parentsUnfinished(unfinished)) }
            lease.owner = worker
            lease.token += 1
            lease.expiresAtMillis = now + duration
            leases[id] = lease
            return .success(lease)

        case .renew(let id, let worker, let token, let now, let duration):
            guard var lease = leases[id] else { return .failure(.unknownShard(id)) }
            if let refusal = Self.fence(lease, worker, token) { return .failure(refusal) }
            // An expired lease may have been free for others to take; renewing it late would hide that.
            guard now < lease.expiresAtMillis else { return .failure(.expired) }
            lease.expiresAtMillis = now + duration
            leases[id] = lease
            return .success(lease)

        case .release(let id, let worker, let token):
            guard var lease = leases[id] else { return .failure(.unknownShard(id)) }
            if let refusal = Self.fence(lease, worker, token) { return .failure(refusal) }
            lease.owner = nil
            lease.token += 1
            lease.expiresAtMillis = 0
            leases[id] = lease
            return .success(lease)

        case .checkpoint(let id, let worker, let token, let checkpoint):
            guard var lease = leases[id] else { return .failure(.unknownShard(id)) }
            if let refusal = Self.fence(lease, worker, token) { return .failure(refusal) }
            guard checkpoint >= lease.checkpoint else { return .failure(.checkpointBehind(current: lease.checkpoint)) }
            lease.checkpoint = checkpoint
            leases[id] = lease
            return .success(lease)
        }
    }

    private static func fence(_ lease: Lease, _ worker: String, _ token: UInt64) -> LeaseRefusal? {
        guard lease.owner == worker else { return .notOwner(owner: lease.owner) }
        guard lease.token == token else { return .tokenMismatch(current: lease.token) }
        return nil
    }

    /// Parents still in the table that have not reached SHARD_END. A parent already gone (trimmed) is finished.
    public func unfinishedParents(of lease: Lease) -> [String] {
        lease.parents.filter { parent in leases[parent].map { $0.checkpoint != .shardEnd } ?? false }
    }

    /// Leases a worker could process: not finished, and every parent finished.
    public func workable() -> [Lease] {
        leases.values.filter { $0.checkpoint != .shardEnd && unfinishedParents(of: $0).isEmpty }.sorted {
            $0.shardID < $1.shardID
        }
    }
}
