/// The leader's view of records proposed but not yet committed and applied, per producer, so a retry that
/// arrives while its original is in flight waits for the original instead of being proposed again. `Ticket` is
/// what the retry waits on. Belongs to the shard's leader; a record leaves it when its proposal returns, whatever
/// the outcome. A leader serves producers only once it has applied an entry of its own term, so every record an
/// earlier leader proposed is by then either committed and in the `ProducerWindow`, or never will be.
public struct InFlightProducers<Ticket: Sendable>: Sendable {
    private var pending: [String: [UInt64: Ticket]] = [:]

    public init() {}

    /// The ticket of `sequence` while it is in flight.
    public func ticket(producer: String, sequence: UInt64) -> Ticket? { pending[producer]?[sequence] }

    public var isEmpty: Bool { pending.isEmpty }

    public mutating func proposed(producer: String, sequence: UInt64, ticket: Ticket) {
        pending[producer, default: [:]][sequence] = ticket
    }

    public mutating func settled(producer: String, sequence: UInt64) {
        pending[producer]?[sequence] = nil
        if pending[producer]?.isEmpty == true { pending[producer] = nil }
    }
}
