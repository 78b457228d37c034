import RillStorage
import Synchronization

extension Simulation {
    /// One node's group commit in simulated time, in place of `Flusher`'s storage threads: waiters queue for
    /// the next round, a round starts when none is running and ends when the world says (its disk latency),
    /// syncing every file its waiters wrote, then running their `onDurable` and resuming them — `Flusher`'s
    /// contract, driven by the world's ticks instead of a thread pool.
    ///
    /// A failed sync is fatal, as in `Flusher`: the round's waiters are never resumed as durable and the world
    /// crashes the node (`onFatal` there exits the process). A crash fails every waiter with `.shutDown`, so the
    /// dead driver's tasks end.
    final class FlushRounds: GroupCommit {
        private struct Waiter {
            var continuation: CheckedContinuation<Void, any Error>
            var onDurable: (@Sendable () -> Void)?
        }

        private struct Round {
            var files: [ObjectIdentifier: any DurableFile] = [:]
            /// In arrival order, so the files sync and the waiters resume in the same order on every replay.
            var order: [ObjectIdentifier] = []
            var waiters: [Waiter] = []
        }

        private struct State {
            var next = Round()
            var running: (round: Round, endsAt: Int)?
            var dead = false
            var rounds = 0
        }

        private let state = Mutex(State())

        /// Whether a round is running or waiters are queued.
        var isBusy: Bool { state.withLock { $0.running != nil || !$0.next.waiters.isEmpty } }

        /// Whether a round would start now: none is running and waiters are queued.
        var canStart: Bool { state.withLock { $0.running == nil && !$0.dead && !$0.next.waiters.isEmpty } }

        /// Whether the running round ends by `tick`.
        func isDue(at tick: Int) -> Bool { state.withLock { $0.running.map { $0.endsAt <= tick } ?? false } }

        /// Completed rounds.
        var rounds: Int { state.withLock { $0.rounds } }

        func waitDurable(_ logs: [any DurableFile], onDurable: (@Sendable () -> Void)?) async throws {
            guard !logs.isEmpty else {
                onDurable?()
                return
            }
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let dead = state.withLock { state -> Bool in
                    guard !state.dead else { return true }
                    for log in logs {
                        let id = ObjectIdentifier(log)
                        if state.next.files.updateValue(log, forKey: id) == nil { state.next.order.append(id) }
                    }
                    state.next.waiters.append(Waiter(continuation: continuation, onDurable: onDurable))
                    return false
                }
                if dead { continuation.resume(throwing: StorageError.shutDown) }
            }
        }

        /// Starts a round with the queued waiters, ending at `endsAt`, if none is running and any are queued.
        func startRound(endsAt: Int) {
            state.withLock { state in
                guard state.running == nil, !state.dead, !state.next.waiters.isEmpty else { return }
                state.running = (state.next, endsAt)
                state.next = Round()
            }
        }

        /// Ends the running round if it is due at `tick`: syncs its files and resumes its waiters. Returns the
        /// sync error that makes the node crash, if one failed (the waiters then stay until `fail`).
        func finishRound(at tick: Int) -> StorageError? {
            let due = state.withLock { state -> Round? in
                guard let running = state.running, running.endsAt <= tick else { return nil }
                return running.round
            }
            guard let round = due else { return nil }
            for id in round.order {
                guard let file = round.files[id] else { continue }
                do {
                    try file.sync()
                } catch {
                    // Never retried, never resumed as durable: the node dies with the round open.
                    return error
                }
            }
            state.withLock { state in
                state.running = nil
                state.rounds += 1
            }
            for waiter in round.waiters {
                waiter.onDurable?()
                waiter.continuation.resume()
            }
            return nil
        }

        /// The node crashed: every waiter fails, and so does every later call.
        func fail() {
            let waiters = state.withLock { state -> [Waiter] in
                state.dead = true
                let waiters = (state.running?.round.waiters ?? []) + state.next.waiters
                state.running = nil
                state.next = Round()
                return waiters
            }
            for waiter in waiters { waiter.continuation.resume(throwing: StorageError.shutDown) }
        }
    }
}
