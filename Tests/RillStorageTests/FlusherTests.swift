import Dispatch
import NIOPosix
import RillModel
import RillStorage
import Synchronization
import Testing

/// A one-shot signal an async test can await, fired from any thread.
private final class Signal<Value: Sendable>: Sendable {
    private let state = Mutex<(value: Value?, waiter: CheckedContinuation<Value, Never>?)>((nil, nil))

    func fire(_ value: Value) {
        let waiter = state.withLock { state -> CheckedContinuation<Value, Never>? in
            guard state.value == nil else { return nil }
            state.value = value
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: value)
    }

    func wait() async -> Value {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Value? in
                if let value = state.value { return value }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

@Suite struct FlusherTests {
    @Test func concurrentWaitersShareRoundsAndEndDurable() async throws {
        try await withTemporaryDirectoryAsync { directory in
            let pool = NIOThreadPool(numberOfThreads: 2)
            pool.start()
            let logs = try (0..<4).map { try SegmentedLog.open(directory: "\(directory)/\($0)", options: smallOptions) }
            for log in logs { try log.append(makeEntries(1...40)) }
            let flusher = Flusher(threadPool: pool) { error in fatalError("unexpected sync failure \(error)") }

            // Hold the first round inside log 0's sync until every other waiter has queued behind it.
            let entered = Signal<Bool>()
            let release = DispatchSemaphore(value: 0)
            let first = Mutex(true)
            logs[0].setBeforeSyncHook {
                let isFirst = first.withLock { value -> Bool in
                    defer { value = false }
                    return value
                }
                guard isFirst else { return }
                entered.fire(true)
                release.wait()
            }
            let waiters = 100
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await flusher.waitDurable(logs[0]) }
                _ = await entered.wait()
                for log in logs { try log.append(makeEntries(41...50)) }
                for waiter in 0..<waiters {
                    group.addTask {
                        if waiter % 10 == 0 {
                            try await flusher.waitDurable(logs)
                        } else {
                            try await flusher.waitDurable(logs[waiter % logs.count])
                        }
                    }
                }
                // Await a condition, not a clock: every waiter is queued for the next round.
                while flusher.stats.queuedWaiters < waiters { await Task.yield() }
                release.signal()
                try await group.waitForAll()
            }
            let stats = flusher.stats
            #expect(stats.rounds == 2)
            #expect(stats.waitersServed == waiters + 1)
            #expect(stats.largestRound == waiters)
            #expect(stats.logSyncs == 1 + logs.count)
            #expect(stats.rounds < stats.waitersServed)
            for log in logs { #expect(log.durableIndex == LogIndex(50)) }
            try await pool.shutdownGracefully()

            for index in 0..<4 {
                let reopened = try SegmentedLog.open(
                    directory: "\(directory)/\(index)",
                    options: smallOptions,
                    durableIndex: LogIndex(50)
                )
                #expect(reopened.recovery == .clean)
                #expect(try expectEntries(reopened, 1...50))
            }
        }
    }

    @Test func waitingWithoutContentionStillSyncs() async throws {
        try await withTemporaryDirectoryAsync { directory in
            let pool = NIOThreadPool(numberOfThreads: 2)
            pool.start()
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            let flusher = Flusher(threadPool: pool) { error in fatalError("unexpected sync failure \(error)") }
            for batch in UInt64(0)..<5 {
                try log.append(makeEntries((batch * 10 + 1)...(batch * 10 + 10)))
                try await flusher.waitDurable(log)
                #expect(log.durableIndex == LogIndex(batch * 10 + 10))
            }
            try await flusher.waitDurable([])
            #expect(flusher.stats.rounds == 5)
            try await pool.shutdownGracefully()
        }
    }

    @Test func syncFailureIsFatal() async throws {
        try await withTemporaryDirectoryAsync { directory in
            // This pool is never shut down: its thread stays parked in `onFatal`, which must not return.
            let pool = NIOThreadPool(numberOfThreads: 1)
            pool.start()
            let log = try SegmentedLog.open(directory: directory, options: smallOptions)
            try log.append(makeEntries(1...3))
            let fault = StorageError.io(operation: "fdatasync", path: directory, errno: 5)
            log.injectSyncFault(fault)
            #expect(throws: fault) { try log.sync() }

            let fatal = Signal<StorageError>()
            let parked = DispatchSemaphore(value: 0)
            let flusher = Flusher(threadPool: pool) { error in
                fatal.fire(error)
                while true { parked.wait() }
            }
            let waiter = Task { try await flusher.waitDurable(log) }
            #expect(await fatal.wait() == fault)
            #expect(log.durableIndex == .zero)
            waiter.cancel()
        }
    }
}
