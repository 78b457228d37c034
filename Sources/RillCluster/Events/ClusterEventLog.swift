/// The latest cluster events one node saw, oldest first, at most `capacity` of them: a bounded ring, so a
/// flapping member or a burst of elections cannot grow memory. Pure; `ClusterEventRecorder` puts it behind a lock.
public struct ClusterEventLog: Sendable, Equatable {
    public let capacity: Int
    private var storage: [ClusterEvent] = []
    /// Where the next event goes once `storage` is full: the slot of the oldest.
    private var head = 0

    public init(capacity: Int = 256) {
        precondition(capacity > 0, "an event log must hold at least one event (capacity \(capacity))")
        self.capacity = capacity
        storage.reserveCapacity(capacity)
    }

    /// Adds `event`, dropping the oldest when full.
    public mutating func append(_ event: ClusterEvent) {
        if storage.count < capacity {
            storage.append(event)
        } else {
            storage[head] = event
            head = (head + 1) % capacity
        }
    }

    /// Every event held, oldest first.
    public var events: [ClusterEvent] {
        Array(storage[head...] + storage[..<head])
    }
}
