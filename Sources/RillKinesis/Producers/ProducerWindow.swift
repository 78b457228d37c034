import RillModel

/// What a shard remembers of its idempotent producers, so a retried record is stored once: for each producer
/// the positions of the last records it committed, by producer sequence. It is part of the shard's replicated
/// state: changed only where committed `records` entries apply, in log order, with the entry's stamp as the
/// time, so every replica holds the same window, a restart rebuilds it by replaying the log, and a snapshot
/// carries it past compaction (`encoded()`). It costs no fsync of its own.
///
/// A producer numbers its records 0, 1, 2, ... across all shards (`ProducerStamp`); a shard sees a subsequence.
/// What the window keeps per producer is bounded: the last `limits.window` records committed on this shard and
/// the highest sequence it had to forget (`forgottenThrough`), so a retry older than the window is recognised as
/// such (`tooOld`) instead of being stored a second time. Producers idle longer than `idleExpiryMillis` of log
/// time are forgotten, and at most `maxProducers` are kept.
///
/// Applying an entry twice changes nothing (its records are duplicates then), so a window taken at any applied
/// index at or after a snapshot's index, with the entries after the snapshot applied again on top, is the same
/// window: compaction may save the window as it is when it runs.
public struct ProducerWindow: Sendable, Equatable {
    public struct Limits: Sendable, Equatable {
        /// Records remembered per producer and shard: a retry of an older one is refused (`tooOld`). Two
        /// PutRecords (500 each), so a batch retried while the next one committed is still recognised.
        public var window: Int = 1_000
        /// A producer silent this long (log time) is forgotten (Kafka's producer id expiration: one week; a day
        /// here, the default retention).
        public var idleExpiryMillis: Int64 = 24 * 60 * 60_000
        /// At most this many producers per shard; the longest idle is forgotten first.
        /// (The window travels in snapshots: 200 full producers are about 5 MB.)
        public var maxProducers: Int = 200
        /// Idle producers are looked for at most this often (log time), not on every entry.
        public var expiryCheckMillis: Int64 = 60_000

        public init() {}
    }

    struct Committed: Sendable, Equatable {
        var sequence: UInt64
        var position: RecordPosition
    }

    struct Producer: Sendable, Equatable {
        /// The last records committed, oldest first.
        var committed: Ring<Committed>
        /// The highest sequence committed here.
        var highest: UInt64
        /// The highest sequence that left `committed`: a retry at or below it that is not in `committed` may have
        /// been stored and cannot be answered.
        var forgottenThrough: UInt64?
        var lastSeenMillis: Int64
    }

    /// What to do with a record before it is proposed.
    public enum Verdict: Sendable, Equatable {
        /// Not committed: propose it (unless the leader has it in flight, `InFlightProducers`).
        case new
        /// Already committed: answer with the position it got the first time, store nothing.
        case duplicate(RecordPosition)
        /// Older than the window remembers: it may or may not have been stored, so it is refused rather than risk
        /// a second copy (InvalidArgumentException).
        case tooOld(forgottenThrough: UInt64)
    }

    public var limits: Limits
    var producers: [String: Producer] = [:]
    /// The log time of the last look for idle producers.
    var lastExpiryMillis: Int64 = .min
    /// Whether the final windows of the shard's parents were taken over (`inherit(_:)`): a shard made by a
    /// reshard serves producers only after that, so a retry of a record a parent stored is not stored again.
    public internal(set) var inherited = false

    public init(limits: Limits = Limits()) { self.limits = limits }

    public var producerCount: Int { producers.count }

    /// Judges a record against what is committed.
    public func verdict(producer: String, sequence: UInt64) -> Verdict {
        // A producer not (or no longer) known starts anywhere.
        guard let state = producers[producer] else { return .new }
        return Self.verdict(state, sequence: sequence)
    }

    /// `verdict(producer:sequence:)` for each of a batch's records, with one lookup of the producer (a
    /// PutRecords judges up to 500 records; hashing the producer id once per record showed in profiles).
    public func verdicts(producer: String, sequences: [UInt64]) -> [Verdict] {
        guard let state = producers[producer] else { return Array(repeating: .new, count: sequences.count) }
        return sequences.map { Self.verdict(state, sequence: $0) }
    }

    private static func verdict(_ state: Producer, sequence: UInt64) -> Verdict {
        // The common case, a record never sent before: O(1).
        if sequence > state.highest { return .new }
        if let hit = state.committed.last(where: { $0.sequence == sequence }) { return .duplicate(hit.position) }
        if let forgotten = state.forgottenThrough, sequence <= forgotten { return .tooOld(forgottenThrough: forgotten) }
        return .new
    }

    /// `apply(producer:sequence:at:)` for the records of one committed entry, slot by slot (the records'
    /// positions are `index` and their slots), with one lookup of the producer. Returns how many were already in
    /// the window.
    @discardableResult
    public mutating func apply(producer: String, sequences: [UInt64], index: LogIndex, stampMillis: Int64) -> Int {
        guard let first = sequences.first else { return 0 }
        var state =
            producers.removeValue(forKey: producer)
            ?? Producer(
                committed: Ring(capacity: max(1, limits.window)),
                highest: first,
                forgottenThrough: nil,
                lastSeenMillis: stampMillis
            )
        var repeated = 0
        for (slot, sequence) in sequences.enumerated() {
            guard Self.verdict(state, sequence: sequence) == .new else {
                repeated += 1
                continue
            }
            let position = RecordPosition(index: index, slot: UInt16(slot), stampMillis: stampMillis)
            if let evicted = state.committed.append(Committed(sequence: sequence, position: position)) {
                state.forgottenThrough = max(state.forgottenThrough ?? 0, evicted.sequence)
            }
            state.highest = max(state.highest, sequence)
        }
        state.lastSeenMillis = max(state.lastSeenMillis, stampMillis)
        producers[producer] = state
        evictIdlestBeyondLimit()
        return repeated
    }

    private mutating func evictIdlestBeyondLimit() {
        if producers.count > limits.maxProducers,
            let idlest = producers.min(by: { ($0.value.lastSeenMillis, $0.key) < ($1.value.lastSeenMillis, $1.key) })
        {
            producers[idlest.key] = nil
        }
    }

    /// Records a committed record; called in log order where records apply. A record already in the window (a
    /// replayed entry, or a retry that raced its original into the log) changes nothing and is reported.
    @discardableResult
    public mutating func apply(producer: String, sequence: UInt64, at position: RecordPosition) -> Verdict {
        let verdict = verdict(producer: producer, sequence: sequence)
        guard verdict == .new else {
            if let seen = producers[producer]?.lastSeenMillis {
                producers[producer]?.lastSeenMillis = max(seen, position.stampMillis)
            }
            return verdict
        }
        var state =
            producers.removeValue(forKey: producer)
            ?? Producer(
                committed: Ring(capacity: max(1, limits.window)),
                highest: sequence,
                forgottenThrough: nil,
                lastSeenMillis: position.stampMillis
            )
        if let evicted = state.committed.append(Committed(sequence: sequence, position: position)) {
            state.forgottenThrough = max(state.forgottenThrough ?? 0, evicted.sequence)
        }
        state.highest = max(state.highest, sequence)
        state.lastSeenMillis = max(state.lastSeenMillis, position.stampMillis)
        producers[producer] = state
        evictIdlestBeyondLimit()
        return .new
    }

    /// Forgets producers idle past the expiry at log time `now` (an applied entry's stamp); looks at most once
    /// per `expiryCheckMillis`, so it costs nothing on most entries.
    public mutating func advance(toMillis now: Int64) {
        guard lastExpiryMillis == .min || now - lastExpiryMillis >= limits.expiryCheckMillis else { return }
        lastExpiryMillis = now
        producers = producers.filter { now - $0.value.lastSeenMillis <= limits.idleExpiryMillis }
    }
}
