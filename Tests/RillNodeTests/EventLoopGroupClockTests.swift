import NIOCore
import NIOPosix
import Testing

@testable import RillNode

/// The clock a node's Raft groups tick and rest on: its sleeps are timers of the group's event loop.
@Suite struct EventLoopGroupClockTests {
    /// Runs `body` with an event loop group of `threads` threads, shut down after it.
    private func withLoops(_ threads: Int, _ body: (MultiThreadedEventLoopGroup) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        do {
            try await body(group)
        } catch {
            try await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    @Test func aSleepEndsAtItsDeadlineNotBefore() async throws {
        try await withLoops(1) { group in
            let clock = EventLoopGroupClock(loop: group.next())
            for delay in [Duration.zero, .milliseconds(1), .milliseconds(30)] {
                let deadline = clock.elapsed + delay
                try await clock.sleep(until: deadline)
                #expect(clock.elapsed >= deadline)
            }
            // A deadline already past returns at once.
            try await clock.sleep(until: .zero)
        }
    }

    @Test func sleepersWithOneDeadlineAllWake() async throws {
        try await withLoops(2) { group in
            let deadline = EventLoopGroupClock(loop: group.next()).elapsed + .milliseconds(20)
            let woken = try await withThrowingTaskGroup(of: Bool.self) { tasks in
                for _ in 0..<500 {
                    let clock = EventLoopGroupClock(loop: group.next())
                    tasks.addTask {
                        try await clock.sleep(until: deadline)
                        return clock.elapsed >= deadline
                    }
                }
                return try await tasks.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(woken == 500, "every sleeper wakes, none before the deadline")
        }
    }

    @Test func aCancelledSleepThrowsAtOnce() async throws {
        try await withLoops(1) { group in
            let clock = EventLoopGroupClock(loop: group.next())
            let sleeper = Task { try await clock.sleep(until: clock.elapsed + .seconds(3_600)) }
            sleeper.cancel()
            await #expect(throws: CancellationError.self) { try await sleeper.value }
            // Cancelled before it sleeps: it never waits.
            let early = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                try await clock.sleep(until: clock.elapsed + .seconds(3_600))
            }
            await #expect(throws: CancellationError.self) { try await early.value }
        }
    }

    /// A loop that shut down runs no timers: a sleep on it ends when its owner cancels it (as a driver does when it
    /// stops), not never.
    @Test func aSleepOnALoopThatShutDownEndsWhenCancelled() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clock = EventLoopGroupClock(loop: group.next())
        try await group.shutdownGracefully()
        let sleeper = Task { try await clock.sleep(until: clock.elapsed + .milliseconds(10)) }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }
}
