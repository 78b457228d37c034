import Logging
import NIOPosix
import Synchronization

/// A file a flush round can make durable: a shard or metadata log, or the node's `raftstate` log.
public protocol DurableFile: AnyObject, Sendable {
    /// Makes everything written so far durable. Blocks; an error is fatal to the process.
    func sync() throws(StorageError)
    /// Where it lives, for the log line of a fatal sync error.
    var location: String { get }
}

extension SegmentedLog: DurableFile {
    public var location: String { directory }
}

/// Waits until files are durable: the flush-round seam a Raft group's driver writes through. `Flusher` in
/// production; the simulation's rounds (RillTestKit) run when its schedule says and can fail an fsync.
public protocol GroupCommit: AnyObject, Sendable {
    /// Returns once a sync round that started after this call has synced every file in `logs`; `onDurable`
    /// runs first, once they are durable, and never when the round failed (see `Flusher.waitDurable`).
    func waitDurable(_ logs: [any DurableFile], onDurable: (@Sendable () -> Void)?) async throws
}

/// Group commit (ARCHITECTURE "Durability rules"): a flush round fdatasyncs every log that has a waiter, in
/// parallel on the storage thread pool, and every waiter resumes when a round that started after it asked
/// has synced its log. Callers arriving while a round runs queue for the next one, so one round serves many
/// logs and many clients, and the fsync rate tracks the disk rather than the request rate.
///
/// An fsync error is fatal: the flusher logs it and calls `onFatal`; it never retries (after a failed fsync the
/// kernel may have dropped the dirty pages, so a retry could "succeed" without the data).
public final class Flusher: GroupCommit {
    /// Counters for metrics.
    public struct Stats: Sendable, Equatable {
        /// Completed rounds.
        public var rounds = 0
        /// Waiters resumed.
        public var waitersServed = 0
        /// Log syncs performed (a log counts once per round however many waiters it had).
        public var logSyncs = 0
        /// The most waiters one round served.
        public var largestRound = 0
        /// Waiters queued for the next round right now.
        public var queuedWaiters = 0
    }

    /// What one finished round did, for metrics; reported just before its waiters resume.
    public struct RoundReport: Sendable {
        /// Waiters the round resumed (the group-commit batch size).
        public var waiters: Int
        /// How long each log's sync took, one per log the round synced.
        public var syncDurations: [Duration]
    }

    private struct Waiter {
        var continuation: CheckedContinuation<Void, any Error>
        var onDurable: (@Sendable () -> Void)?
    }

    private struct Round {
        var logs: [ObjectIdentifier: any DurableFile] = [:]
        var waiters: [Waiter] = []
    }

    private struct State {
        var next = Round()
        var running = false
        var stats = Stats()

        /// Takes the queued waiters as the round about to start.
        mutating func takeRound() -> Round {
            let round = next
            next = Round()
            stats.queuedWaiters = 0
            running = true
            return round
        }
    }

    private let threadPool: NIOThreadPool
    private let logger: Logger
    private let onFatal: @Sendable (StorageError) -> Never
    private let onRound: (@Sendable (RoundReport) -> Void)?
    private let state = Mutex(State())

    /// - Parameters:
    ///   - threadPool: where fdatasync runs, one work item per log in a round; a started pool.
    ///   - onRound: told what each finished round did; it runs on a storage thread, so it must be cheap.
    ///   - onFatal: called with the first sync error; the node's handler logs and exits.
    public init(
        threadPool: NIOThreadPool,
        logger: Logger,
        onRound: (@Sendable (RoundReport) -> Void)? = nil,
        onFatal: @escaping @Sendable (StorageError) -> Never
    ) {
        self.threadPool = threadPool
        self.logger = logger
        self.onRound = onRound
        self.onFatal = onFatal
    }

    /// A flusher that logs nowhere, for tests (which cannot depend on swift-log directly).
    package convenience init(threadPool: NIOThreadPool, onFatal: @escaping @Sendable (StorageError) -> Never) {
        self.init(
            threadPool: threadPool,
            logger: Logger(label: "rill.storage.flusher", factory: { _ in SwiftLogNoOpLogHandler() }),
            onFatal: onFatal
        )
    }

    /// A snapshot of the counters.
    public var stats: Stats { state.withLock { $0.stats } }

    /// Returns once a sync round that started after this call has synced `log`.
    public func waitDurable(_ log: any DurableFile) async throws {
        try await waitDurable([log])
    }

    /// Returns once a sync round that started after this call has synced every log in `logs`.
    ///
    /// - Parameter onDurable: runs on the storage thread that finished the round, once `logs` are durable and
    ///   before this call returns; never when the round failed. It saves a hop to the caller's executor for
    ///   what only needs the data on disk (a follower's acknowledgement), so it must be cheap and not block.
    /// - Throws: `StorageError.shutDown` if the thread pool no longer runs work.
    public func waitDurable(_ logs: [any DurableFile], onDurable: (@Sendable () -> Void)? = nil) async throws {
        guard !logs.isEmpty else {
            onDurable?()
            return
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let start = state.withLock { state -> Round? in
                for log in logs { state.next.logs[ObjectIdentifier(log)] = log }
                state.next.waiters.append(Waiter(continuation: continuation, onDurable: onDurable))
                state.stats.queuedWaiters += 1
                return state.running ? nil : state.takeRound()
            }
            if let start { run(start) }
        }
    }

    private func run(_ round: Round) {
        let remaining = Mutex(round.logs.count)
        let cancelled = Mutex(false)
        // Timed only when someone listens, so a flusher without metrics reads no clock.
        let durations = Mutex<[Duration]>([])
        for log in round.logs.values {
            threadPool.submit { [self] workState in
                if case .active = workState {
                    do throws(StorageError) {
                        if onRound != nil {
                            let start = ContinuousClock.now
                            try log.sync()
                            let elapsed = start.duration(to: .now)
                            durations.withLock { $0.append(elapsed) }
                        } else {
                            try log.sync()
                        }
                    } catch {
                        logger.critical(
                            "fsync failed; stopping",
                            metadata: ["rill.directory": "\(log.location)", "error": "\(error)"]
                        )
                        onFatal(error)
                    }
                } else {
                    cancelled.withLock { $0 = true }
                }
                let last = remaining.withLock { count -> Bool in
                    count -= 1
                    return count == 0
                }
                if last {
                    finish(round, cancelled: cancelled.withLock { $0 }, syncDurations: durations.withLock { $0 })
                }
            }
        }
    }

    /// Resumes a finished round's waiters and starts the next round if anyone queued meanwhile.
    private func finish(_ round: Round, cancelled: Bool, syncDurations: [Duration]) {
        // Count before resuming, so a waiter that reads `stats` afterwards sees its own round.
        let next = state.withLock { state -> Round? in
            state.stats.rounds += 1
            state.stats.waitersServed += round.waiters.count
            state.stats.logSyncs += round.logs.count
            state.stats.largestRound = max(state.stats.largestRound, round.waiters.count)
            state.running = false
            return state.next.waiters.isEmpty ? nil : state.takeRound()
        }
        // Reported before resuming too, for the same reason as the counters above.
        if !cancelled, let onRound { onRound(RoundReport(waiters: round.waiters.count, syncDurations: syncDurations)) }
        for waiter in round.waiters {
            if cancelled {
                waiter.continuation.resume(throwing: StorageError.shutDown)
            } else {
                waiter.onDurable?()
                waiter.continuation.resume()
            }
        }
        if let next { run(next) }
    }
}
