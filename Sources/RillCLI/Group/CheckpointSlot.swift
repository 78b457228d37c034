/// One leased shard's checkpoint as a worker that checkpoints what it has handed on (printed, written) keeps it:
/// at most one Checkpoint call in flight per shard, so checkpoints reach the group in order and only move forward,
/// and each call carries the latest mark, so a slow call is not followed by a queue of stale ones.
struct CheckpointSlot: Equatable {
    enum Mark: Equatable {
        /// Every record up to and including this one is handled.
        case sequence(String)
        /// The closed shard is read to its end and every record in it handled.
        case shardEnd
    }

    /// What the group has: the lease's checkpoint when taken, then each accepted call's mark.
    private(set) var accepted: Mark?
    /// The latest mark handled.
    private(set) var handled: Mark?
    /// The mark of the call in flight.
    private(set) var inFlight: Mark?

    init(checkpoint: String?) {
        accepted = checkpoint.map(Mark.sequence)
        handled = accepted
    }

    /// Every record up to `sequenceNumber` is handled.
    mutating func handled(through sequenceNumber: String) {
        guard handled != .shardEnd else { return }
        handled = .sequence(sequenceNumber)
    }

    /// The closed shard's last record is handled.
    mutating func finished() { handled = .shardEnd }

    /// The checkpoint to send now, if one is due and none is in flight; it is in flight from here on.
    mutating func take() -> Mark? {
        guard inFlight == nil, let handled, handled != accepted else { return nil }
        inFlight = handled
        return handled
    }

    /// The call in flight was accepted.
    mutating func succeeded() {
        if let inFlight { accepted = inFlight }
        inFlight = nil
    }

    /// The call in flight failed; the mark is due again.
    mutating func failed() { inFlight = nil }

    /// Nothing in flight and nothing due: the group has everything handled.
    var isSettled: Bool { inFlight == nil && handled == accepted }

    /// The group has the shard's end: the shard is done with, and its children may be workable.
    var isFinished: Bool { accepted == .shardEnd }
}
