import NIOConcurrencyHelpers
import RillKinesis

/// One proposal of an idempotent producer's records, as a retry of one of them sees it while it is in flight
/// (`InFlightProducers`): the retry waits here for the original's outcome instead of proposing the record again.
final class InFlightTicket: Sendable {
    /// Where each proposed producer sequence was stored; nil when the proposal failed or its outcome is unknown.
    typealias Outcome = [UInt64: RecordPosition]?

    private enum State {
        case pending([CheckedContinuation<Outcome, Never>])
        case finished(Outcome)
    }

    private let state = NIOLockedValueBox(State.pending([]))

    /// Called once, by the proposer, when its proposal returned.
    func finish(_ outcome: Outcome) {
        let waiting: [CheckedContinuation<Outcome, Never>] = state.withLockedValue { state in
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
            let finished: Outcome? = state.withLockedValue { state in
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
