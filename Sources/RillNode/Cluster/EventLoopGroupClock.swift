import NIOCore
import RillReplication
import Synchronization

/// A `GroupClock` whose sleeps are timers of one event loop: the loop a group's tasks already run on
/// (`EventLoopTaskExecutor`). A sleep then ends in that loop's own wait for its next timer, on the thread that
/// runs the group. `Task.sleep` armed a Dispatch timer per sleep instead, which fired on a pool thread that
/// handed the group back to its loop: at 1,000 idle shards every resting leader's nudge and the ticks of its
/// heartbeat round cost a timer set, a pool thread's wake-up and a cross-thread hand-over each, the larger part of
/// an idle node's CPU (docs/benchmarks.md, "idle shards on the event loops' timers").
///
/// Time is NIO's monotonic clock from one origin per process, so every group on the node shares the nudge grid
/// (`RaftGroupDriver.nextNudge`), and the leaders resting on one loop wake in one pass of its timers.
struct EventLoopGroupClock: GroupClock {
    /// Taken at first use, shared by every group of the process.
    private static let origin = NIODeadline.now()

    let loop: any EventLoop

    var elapsed: Duration {
        // The origin first: taken at first use, it must not postdate the instant it is subtracted from.
        let origin = Self.origin
        return .nanoseconds(Int64(NIODeadline.now().uptimeNanoseconds - origin.uptimeNanoseconds))
    }

    /// Returns at `deadline`, or throws `CancellationError` as soon as the task is cancelled. The timer resumes
    /// the sleeper itself rather than through a future: a loop that shut down runs no callbacks, so a sleep on
    /// it would never end, while cancellation (what every sleeper's owner does when it stops) still ends this one.
    func sleep(until deadline: Duration) async throws {
        let (seconds, attoseconds) = deadline.components
        let at = Self.origin + .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let sleeper = Sleeper()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                guard sleeper.begin(continuation) else { return }
                sleeper.hold(loop.scheduleTask(deadline: at) { sleeper.end(nil) })
            }
        } onCancel: {
            sleeper.end(CancellationError())
        }
    }
}

/// One sleep's continuation and timer, ended once: by the timer, or by cancellation, whichever comes first.
private final class Sleeper: Sendable {
    private enum State {
        case new
        case waiting(CheckedContinuation<Void, any Error>, Scheduled<Void>?)
        case done
    }

    private let state = Mutex(State.new)

    /// Whether the sleep goes on: false when it was cancelled before it began (the continuation is resumed).
    func begin(_ continuation: CheckedContinuation<Void, any Error>) -> Bool {
        let cancelled = state.withLock { state -> Bool in
            guard case .new = state else { return true }
            state = .waiting(continuation, nil)
            return false
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    /// Keeps the timer, to cancel it if the sleep is cancelled; cancels it now if that already happened.
    func hold(_ scheduled: Scheduled<Void>) {
        let ended = state.withLock { state -> Bool in
            guard case .waiting(let continuation, nil) = state else { return true }
            state = .waiting(continuation, scheduled)
            return false
        }
        if ended { scheduled.cancel() }
    }

    /// Ends the sleep: `nil` when the timer fired, the error when it was cancelled. Later calls do nothing.
    func end(_ error: (any Error)?) {
        let ending = state.withLock { state -> (CheckedContinuation<Void, any Error>, Scheduled<Void>?)? in
            defer { state = .done }
            guard case .waiting(let continuation, let scheduled) = state else { return nil }
            return (continuation, scheduled)
        }
        guard let (continuation, scheduled) = ending else { return }
        if let error {
            scheduled?.cancel()
            continuation.resume(throwing: error)
        } else {
            continuation.resume()
        }
    }
}
