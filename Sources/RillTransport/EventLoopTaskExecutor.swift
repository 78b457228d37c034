import NIOCore

/// Runs a task's jobs on one event loop. A Raft group's inbox and processing tasks prefer the event loop its
/// peer messages arrive on: the driver is a default actor, and a default actor runs on its task's preferred
/// executor (SE-0417), so a message read from the socket is stepped, and the Ready it makes is written and
/// sent, on that thread, without waking a thread of the global pool for each message. Callers without the
/// preference (a request proposing) still enter the actor wherever they run. Small peer requests are served
/// the same way (`PeerTransport.setRequestHandler`).
public final class EventLoopTaskExecutor: TaskExecutor {
    public let loop: any EventLoop

    public init(_ loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
