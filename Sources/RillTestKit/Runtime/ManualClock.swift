import RillReplication
import Synchronization

extension Simulation {
    /// The world's monotonic time, moved only by the world: the drivers' `GroupClock`. Sleepers wake in deadline
    /// order (ties in the order they slept) when `advance(to:)` passes their deadline, on the world's executor.
    final class ManualClock: GroupClock {
        private struct Sleeper {
            var id: UInt64
            var deadline: Duration
            var continuation: CheckedContinuation<Void, any Error>
        }

        private struct State {
            var now: Duration = .zero
            var sleepers: [Sleeper] = []
            var nextID: UInt64 = 0
        }

        private let state = Mutex(State())

        var elapsed: Duration { state.withLock { $0.now } }

        func sleep(until deadline: Duration) async throws {
            let id = state.withLock { state -> UInt64 in
                state.nextID += 1
                return state.nextID
            }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    // Cancelled before it got here: the handler below found nothing to resume.
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                        return
                    }
                    let ready = state.withLock { state -> Bool in
                        guard deadline > state.now else { return true }
                        state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                let cancelled = state.withLock { state -> Sleeper? in
                    guard let position = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.sleepers.remove(at: position)
                }
                cancelled?.continuation.resume(throwing: CancellationError())
            }
        }

        /// Moves time to `instant` and wakes every sleeper whose deadline it reached.
        func advance(to instant: Duration) {
            let due = state.withLock { state -> [Sleeper] in
                state.now = max(state.now, instant)
                let now = state.now
                let due = state.sleepers.filter { $0.deadline <= now }
                state.sleepers.removeAll { $0.deadline <= now }
                return due.sorted { ($0.deadline, $0.id) < ($1.deadline, $1.id) }
            }
            for sleeper in due { sleeper.continuation.resume() }
        }
    }
}
