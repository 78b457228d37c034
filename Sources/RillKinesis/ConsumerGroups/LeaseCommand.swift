/// A change to a consumer group's leases, proposed through Raft and applied identically on every replica.
public enum LeaseCommand: Sendable, Equatable, Codable {
    /// The stream's shards as they are now: new shards get a lease (with their parents), shards gone from the
    /// stream (trimmed past retention) lose theirs.
    case syncShards([ShardLineage], atMillis: Int64)
    /// Take a free or expired lease, or (balancing) one another worker holds: `expectedToken` must be the
    /// lease's current token, so two workers racing for one lease cannot both win.
    case take(shardID: String, worker: String, expectedToken: UInt64, atMillis: Int64, durationMillis: Int64)
    case renew(shardID: String, worker: String, token: UInt64, atMillis: Int64, durationMillis: Int64)
    case release(shardID: String, worker: String, token: UInt64)
    case checkpoint(shardID: String, worker: String, token: UInt64, Checkpoint)

    public struct ShardLineage: Sendable, Equatable, Codable {
        public var shardID: String
        public var parents: [String]

        public init(shardID: String, parents: [String]) {
            self.shardID = shardID
            self.parents = parents
        }
    }
}

/// Why a lease command was refused; the worker learns it lost the lease, or that the shard may not start yet.
public enum LeaseRefusal: Error, Sendable, Equatable {
    case unknownShard(String)
    /// The lease changed hands (or was renewed by another) since the worker read it.
    case tokenMismatch(current: UInt64)
    case notOwner(owner: String?)
    case expired
    /// A child of a split or merge waits until every parent is finished.
    case parentsUnfinished([String])
    /// Checkpoints only move forward.
    case checkpointBehind(current: Checkpoint)
}
