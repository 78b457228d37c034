import RillClient

/// What one lease round's answer means for the shards a worker is working, by the lease rules of
/// docs/consumers.md: a shard whose token is no longer in the answer was lost (another worker took it, or it
/// expired), and a workable lease the worker is not working under that token is its to start, from the lease's
/// checkpoint. Finished shards (`SHARD_END`) are never started. Shared by `rill trigger` and `rill tail --group`.
struct LeaseChanges: Equatable {
    /// Shards to stop working, in shard order: their events from now on belong to an earlier tenure.
    var lost: [String]
    /// Leases to start working, in the answer's order.
    var gained: [KinesisClient.GroupLease]

    init(working: [String: Int], answer: [KinesisClient.GroupLease]) {
        var tokens: [String: Int] = [:]
        for lease in answer where tokens[lease.shardID] == nil { tokens[lease.shardID] = lease.token }
        lost = working.filter { tokens[$0.key] != $0.value }.keys.sorted()
        var seen: Set<String> = []
        gained = answer.filter { lease in
            guard !lease.finished, working[lease.shardID] != lease.token else { return false }
            return seen.insert(lease.shardID).inserted
        }
    }
}
