import RillKinesis
import RillModel
import Synchronization

/// One proposal of an idempotent producer's records, as a retry of one of them sees it while it is in flight
/// (`InFlightProducers`): the retry waits here for the original's outcome instead of proposing the record again.
final class InFlightTicket: Sendable {
    /// Where the proposed records were stored; nil when the proposal failed or its outcome is unknown.
    typealias Outcome = Proposed?

    /// One committed proposal: its entry and the producer sequences of its records, in slot order.
    struct Proposed: Sendable {
        var index: LogIndex
        var stampMillis: Int64
        var sequences: [UInt64]

        /// Where the record numbered `sequence` was stored, if it was part of the proposal. A linear search: only
        /// a retry that raced its original asks.
        func position(of sequence: UInt64) -> RecordPosition? {
            guard let slot = sequences.firstIndex(of: sequence) else { return nil }
            return RecordPosition(index: index, slot: UInt16(slot), stampMillis: stampMillis)
        }
    }

    private enum State {
        case pending([CheckedContinuation<Outcome, Never>])
        case finished(Outcome)
    }

    private let state = Mutex(State.pending([]))

    /// Called once, by the proposer, when its proposal returned.
    func finish(_ outcome: Outcome) {
        let waiting: [CheckedContinuation<Outcome, Never>] = state.withLock { state in
            guard case .pending(let waiting) = state else { return [] }
            state = .finished(outcome)
            return waiting
        }
        for continuation in waiting { continuation.resume(returning: outcome) }
    }

    /// The original's outcome. Bounded: every proposal returns (committed, refused, or failed when leadership is
    /// lost or the group stops), and its proposer finishes the ticket on every path.
    func outcome() async -> Outcome {
        await withCheckedContinuation { continuation in
            let finished: Outcome? = state.withLock { state in
                switch state {
                case .pending(let waiting):
                    state = .pending(waiting + [continuation])
                    return nil
                case .finished(let outcome): return .some(outcome)
                }
            }
            if let finished { continuation.resume(returning: finished) }
        }
    }
}
