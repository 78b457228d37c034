import RillKinesis
import Synchronization

/// Which consumer and shard pairs have a SubscribeToShard under way on this node. AWS allows one active
/// subscription per consumer and shard; a second call while the first streams gets ResourceInUseException
/// (SubscribeToShard, "Errors"). A relayed call from a router lands on the node the router picks for the shard,
/// so a client subscribing through one router sees the same rule.
final class SubscriptionLeases: Sendable {
    /// One subscription under way, as `/admin/status` shows it.
    struct Active: Sendable, Equatable {
        var consumerARN: String
        var shard: String
        var sinceMillis: Int64
    }

    private let active = Mutex<[String: Active]>([:])

    /// Takes the pair for a new subscription started at `now`, or throws ResourceInUseException when one is
    /// under way.
    func acquire(consumerARN: String, shard: String, atMillis now: Int64) throws(KinesisError) -> SubscriptionLease {
        let key = consumerARN + "|" + shard
        let taken = active.withLock { active in
            guard active[key] == nil else { return false }
            active[key] = Active(consumerARN: consumerARN, shard: shard, sinceMillis: now)
            return true
        }
        guard taken else {
            throw KinesisError(
                .resourceInUse,
                "Another active subscription exists for consumer \(consumerARN) and shard \(shard)."
            )
        }
        return SubscriptionLease(key: key, leases: self)
    }

    var count: Int { active.withLock { $0.count } }

    /// Every subscription under way on this node, by consumer and shard.
    var subscriptions: [Active] {
        active.withLock { $0.values.sorted { ($0.consumerARN, $0.shard) < ($1.consumerARN, $1.shard) } }
    }

    fileprivate func release(_ key: String) {
        _ = active.withLock { $0.removeValue(forKey: key) }
    }
}

/// One subscription's hold on its consumer and shard, given back when the last copy of the subscription is gone:
/// however the stream ends (its lifetime, the shard's end, the client leaving, a cancelled task), nothing can
/// forget to release it.
final class SubscriptionLease: Sendable {
    private let key: String
    private let leases: SubscriptionLeases

    fileprivate init(key: String, leases: SubscriptionLeases) {
        self.key = key
        self.leases = leases
    }

    deinit { leases.release(key) }
}
