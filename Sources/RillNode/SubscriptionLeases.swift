import NIOConcurrencyHelpers
import RillKinesis

/// Which consumer and shard pairs have a SubscribeToShard under way on this node. AWS allows one active
/// subscription per consumer and shard; a second call while the first streams gets ResourceInUseException
/// (SubscribeToShard, "Errors"). A relayed call from a router lands on the node the router picks for the shard,
/// so a client subscribing through one router sees the same rule.
final class SubscriptionLeases: Sendable {
    private let active = NIOLockedValueBox<Set<String>>([])

    /// Takes the pair for a new subscription, or throws ResourceInUseException when one is under way.
    func acquire(consumerARN: String, shard: String) throws(KinesisError) -> SubscriptionLease {
        let key = consumerARN + "|" + shard
        let taken = active.withLockedValue { $0.insert(key).inserted }
        guard taken else {
            throw KinesisError(
                .resourceInUse,
                "Another active subscription exists for consumer \(consumerARN) and shard \(shard)."
            )
        }
        return SubscriptionLease(key: key, leases: self)
    }

    var count: Int { active.withLockedValue { $0.count } }

    fileprivate func release(_ key: String) {
        _ = active.withLockedValue { $0.remove(key) }
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
