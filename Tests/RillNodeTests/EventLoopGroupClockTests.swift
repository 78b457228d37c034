import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import RillNode

/// The clock a node's Raft groups tick and rest on: its sleeps are timers of the group's event loop.
@Suite struct EventLoopGroupClockTests {
    @Test func aSleepEndsAtItsDeadlineNotBefore() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let clock = EventLoopGroupClock(loop: group.next())
        for delay in [Duration.zero, .milliseconds(1), .milliseconds(30)] {
            let deadline = clock.elapsed + delay
            try await clock.sleep(until: deadline)
            #expect(clock.elapsed >= deadline)
        }
        // A deadline already past returns at once.
        try await clock.sleep(until: .zero)
    }

    @Test func sleepersWithOneDeadlineAllWake() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        let deadline = EventLoopGroupClock(loop: group.next()).elapsed + .milliseconds(20)
        let woken = Atomic(0)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for _ in 0..<500 {
                let clock = EventLoopGroupClock(loop: group.next())
                tasks.addTask {
                    try await clock.sleep(until: deadline)
                    #expect(clock.elapsed >= deadline)
                    woken.add(1, ordering: .relaxed)
                }
            }
            try await tasks.waitForAll()
        }
        #expect(woken.load(ordering: .relaxed) == 500)
    }

    @Test func aCancelledSleepThrowsAtOnce() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
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

    @Test func aSleepOnALoopThatShutDownThrows() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let clock = EventLoopGroupClock(loop: group.next())
        try await group.shutdownGracefully()
        await #expect(throws: CancellationError.self) { try await clock.sleep(until: clock.elapsed + .seconds(1)) }
    }
}
