/// The leader's view of records proposed but not yet committed and applied, per producer, so a retry that
/// arrives while its original is in flight waits for the original instead of being proposed again. `Ticket` is
/// what the retry waits on. Belongs to the shard's leader; a record leaves it when its proposal returns, whatever
/// the outcome. A leader serves producers only once it has applied an entry of its own term, so every record an
/// earlier leader proposed is by then either committed and in the `ProducerWindow`, or never will be.
///
/// Inlinable so the node's module specializes it for its ticket type: unspecialized, every call looked up the
/// generic dictionaries' metadata at run time, which showed in profiles of idempotent PutRecords.
public struct InFlightProducers<Ticket: Sendable>: Sendable {
    @usableFromInline var pending: [String: [UInt64: Ticket]] = [:]

    @inlinable public init() {}

    /// The ticket of `sequence` while it is in flight.
    @inlinable public func ticket(producer: String, sequence: UInt64) -> Ticket? { pending[producer]?[sequence] }

    @inlinable public var isEmpty: Bool { pending.isEmpty }

    /// Each of `sequences` with its ticket, or nil when not in flight; the producer is looked up once.
    @inlinable public func tickets(producer: String, sequences: [UInt64]) -> [Ticket?] {
        guard let tickets = pending[producer] else { return Array(repeating: nil, count: sequences.count) }
        return sequences.map { tickets[$0] }
    }

    @inlinable public mutating func proposed(producer: String, sequence: UInt64, ticket: Ticket) {
        pending[producer, default: [:]][sequence] = ticket
    }

    /// `proposed(producer:sequence:ticket:)` for a batch's records, with one lookup of the producer.
    @inlinable public mutating func proposed(producer: String, sequences: [UInt64], ticket: Ticket) {
        guard !sequences.isEmpty else { return }
        var tickets = pending.removeValue(forKey: producer) ?? [:]
        for sequence in sequences { tickets[sequence] = ticket }
        pending[producer] = tickets
    }

    @inlinable public mutating func settled(producer: String, sequence: UInt64) {
        pending[producer]?[sequence] = nil
        if pending[producer]?.isEmpty == true { pending[producer] = nil }
    }

    /// `settled(producer:sequence:)` for a batch's records, with one lookup of the producer.
    @inlinable public mutating func settled(producer: String, sequences: [UInt64]) {
        guard var tickets = pending.removeValue(forKey: producer) else { return }
        for sequence in sequences { tickets[sequence] = nil }
        if !tickets.isEmpty { pending[producer] = tickets }
    }
}
