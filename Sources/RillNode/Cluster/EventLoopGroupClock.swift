import NIOCore
import RillReplication

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

    func sleep(until deadline: Duration) async throws {
        let (seconds, attoseconds) = deadline.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        let scheduled = loop.scheduleTask(deadline: Self.origin + .nanoseconds(nanoseconds)) {}
        try await withTaskCancellationHandler {
            do {
                try await scheduled.futureResult.get()
            } catch {
                // Cancelled (below), or the loop shut down: either way the sleeper stops.
                throw CancellationError()
            }
        } onCancel: {
            scheduled.cancel()
        }
    }
}
