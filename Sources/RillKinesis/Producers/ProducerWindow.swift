/// What a shard remembers of its idempotent producers, so a retried record is stored once: for each producer
/// the last producer sequences it committed, with the sequence numbers they were given. It is part of the
/// shard's replicated state (changed only where committed records apply, in log order, with the entry's
/// time), so it survives leader changes, restarts and snapshots; it costs no fsync of its own. Bounded: a
/// window of sequences per producer, and producers idle longer than `idleExpiryMillis` are forgotten.
///
/// A producer numbers its records for one shard 0, 1, 2, ... (`ProducerSequence`). Plain clients send no
/// producer id and never reach this type.
public struct ProducerWindow: Sendable, Equatable, Codable {
    public struct Limits: Sendable, Equatable, Codable {
        /// Sequences remembered per producer: a retry older than this many records cannot be recognised.
        public var window: Int = 512
        /// A producer silent this long is forgotten (Kafka's producer id expiration: one day).
        public var idleExpiryMillis: Int64 = 24 * 60 * 60_000
        /// At most this many producers per shard; the longest idle is forgotten first.
        public var maxProducers: Int = 10_000

        public init() {}
    }

    struct Producer: Sendable, Equatable, Codable {
        /// Oldest first; consecutive producer sequences.
        var committed: [Committed]
        var lastSeenMillis: Int64
    }

    struct Committed: Sendable, Equatable, Codable {
        var producerSequence: UInt64
        var sequenceNumber: String
    }

    /// What to do with a record before it is proposed.
    public enum Verdict: Sendable, Equatable {
        /// Not seen: propose it.
        case new
        /// Already committed: answer with the sequence number it got the first time, store nothing.
        case duplicate(sequenceNumber: String)
        /// Older than the window remembers: it may or may not have been stored, so it is refused rather than
        /// risk a second copy (InvalidArgumentException).
        case tooOld(oldestRemembered: UInt64)
        /// A gap: an earlier record of this producer was never committed (InvalidArgumentException; the
        /// producer resends from the gap).
        case outOfOrder(expected: UInt64)
    }

    public var limits: Limits
    private(set) var producers: [String: Producer] = [:]

    public init(limits: Limits = Limits()) { self.limits = limits }

    public var producerCount: Int { producers.count }

    /// Judges a record against what is committed. Records in flight are the leader's concern
    /// (`InFlightProducers`): they are not committed yet.
    public func verdict(producer: String, sequence: UInt64) -> Verdict {
        guard let state = producers[producer], let last = state.committed.last else {
            // A producer starts anywhere (after expiry it may resume mid-stream).
            return .new
        }
        if sequence == last.producerSequence + 1 { return .new }
        if sequence > last.producerSequence { return .outOfOrder(expected: last.producerSequence + 1) }
        guard let first = state.committed.first, sequence >= first.producerSequence else {
            return .tooOld(oldestRemembered: state.committed.first?.producerSequence ?? 0)
        }
        return .duplicate(sequenceNumber: state.committed[Int(sequence - first.producerSequence)].sequenceNumber)
    }

    /// Records a committed record; called in log order where records apply. A duplicate that reached the log
    /// anyway (a retry raced its original across a leader change) is reported so the apply step skips it.
    @discardableResult
    public mutating func apply(
        producer: String,
        sequence: UInt64,
        sequenceNumber: String,
        atMillis now: Int64
    ) -> Verdict {
        let verdict = verdict(producer: producer, sequence: sequence)
        switch verdict {
        case .duplicate, .tooOld:
            if let seen = producers[producer]?.lastSeenMillis { producers[producer]?.lastSeenMillis = max(seen, now) }
            return verdict
        case .new, .outOfOrder:
            // A gap that reached the log is accepted there (the leader refuses gaps; a log replayed from an older
            // build may hold one): the window restarts at this record.
            var state = producers[producer] ?? Producer(committed: [], lastSeenMillis: now)
            if case .outOfOrder = verdict { state.committed.removeAll() }
            state.committed.append(Committed(producerSequence: sequence, sequenceNumber: sequenceNumber))
            if state.committed.count > limits.window {
                state.committed.removeFirst(state.committed.count - limits.window)
            }
            state.lastSeenMillis = max(state.lastSeenMillis, now)
            producers[producer] = state
            if producers.count > limits.maxProducers,
                let idlest = producers.min(by: { ($0.value.lastSeenMillis, $0.key) < ($1.value.lastSeenMillis, $1.key) }
                )
            {
                producers[idlest.key] = nil
            }
            return .new
        }
    }

    /// Forgets producers idle past the expiry; called with the time of each applied entry.
    public mutating func expire(atMillis now: Int64) {
        producers = producers.filter { now - $0.value.lastSeenMillis <= limits.idleExpiryMillis }
    }
}

/// The leader's view of records proposed but not yet committed, per producer, so a retry that arrives while its
/// original is in flight waits for the original instead of being proposed again. Belongs to the group's serial
/// owner; emptied when leadership is lost (the new leader serves producers only after applying its first entry,
/// so every record an older leader proposed is either committed and in its `ProducerWindow`, or lost).
public struct InFlightProducers: Sendable {
    private var pending: [String: [UInt64: Int]] = [:]

    public init() {}

    /// The log index of `sequence` when it is in flight.
    public func index(producer: String, sequence: UInt64) -> Int? { pending[producer]?[sequence] }

    /// The next sequence the producer may send: one past the highest in flight, if any.
    public func next(producer: String) -> UInt64? { pending[producer]?.keys.max().map { $0 + 1 } }

    public mutating func proposed(producer: String, sequence: UInt64, index: Int) {
        pending[producer, default: [:]][sequence] = index
    }

    public mutating func settled(producer: String, sequence: UInt64) {
        pending[producer]?[sequence] = nil
        if pending[producer]?.isEmpty == true { pending[producer] = nil }
    }

    public mutating func leadershipLost() { pending.removeAll() }
}
