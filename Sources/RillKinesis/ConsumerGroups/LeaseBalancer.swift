/// What a worker should take next, by the KCL's rule: every worker aims at its fair share
/// (workable leases ÷ live workers, rounded up); it first takes leases nobody holds (free or expired), then,
/// still short, takes one lease from the worker holding the most, if that worker holds more than the share.
/// One steal per round keeps workers from taking leases back and forth. Pure.
public enum LeaseBalancer {
    public struct Take: Sendable, Equatable {
        public var shardID: String
        public var expectedToken: UInt64
        /// Whether the lease is live in another worker's hands (balancing) rather than free.
        public var isSteal: Bool
    }

    /// Leases `worker` should try to take now, in order. `ordering` breaks ties among equal candidates, so workers
    /// started together do not all reach for the same lease (pass a per-worker seeded shuffle; identity in tests).
    public static func plan(
        _ table: LeaseTable,
        worker: String,
        atMillis now: Int64,
        maxTakesPerRound: Int = 1,
        ordering: ([Lease]) -> [Lease] = { $0 }
    ) -> [Take] {
        let workable = table.workable()
        guard !workable.isEmpty else { return [] }
        var held: [String: Int] = [worker: 0]
        for lease in workable where lease.isHeld(atMillis: now) { held[lease.owner!, default: 0] += 1 }
        let share = (workable.count + held.count - 1) / held.count
        let mine = held[worker] ?? 0
        guard mine < share else { return [] }
        let free = ordering(workable.filter { !$0.isHeld(atMillis: now) })
        var takes = free.prefix(min(maxTakesPerRound, share - mine)).map {
            Take(shardID: $0.shardID, expectedToken: $0.token, isSteal: false)
        }
        if takes.isEmpty {
            // Steal only when it leaves the victim no worse than the thief: busiest worker, above the share.
            let others = held.filter { $0.key != worker }
            if let (victim, count) = others.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }
            ),
                count > share || (count == share && count > mine + 1)
            {
                let theirs = ordering(workable.filter { $0.owner == victim && $0.isHeld(atMillis: now) })
                if let lease = theirs.first {
                    takes = [Take(shardID: lease.shardID, expectedToken: lease.token, isSteal: true)]
                }
            }
        }
        return takes
    }
}

extension LeaseBalancer {
    /// A tie-break order of its own for each worker: candidates sorted by a hash of (worker, shard), so workers
    /// that start together reach for different leases instead of racing for the first. Deterministic (FNV-1a),
    /// the same on every node and run.
    public static func spread(for worker: String) -> @Sendable ([Lease]) -> [Lease] {
        { leases in
            leases.map { (Self.fnv1a(worker + "/" + $0.shardID), $0) }.sorted {
                $0.0 != $1.0 ? $0.0 < $1.0 : $0.1.shardID < $1.1.shardID
            }.map(\.1)
        }
    }

    static func fnv1a(_ text: String) -> UInt64 {
        text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
