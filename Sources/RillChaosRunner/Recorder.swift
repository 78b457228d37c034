import Foundation
import NIOPosix
import RillChaos
import Synchronization

/// The run's history file and clock: every worker and the nemesis append through it.
///
/// Times are milliseconds since the run started, on the monotonic clock, so a clock step on the machine
/// cannot reorder a history. Appends only queue events; a thread of its own writes them (every
/// `flushInterval`, via `run()`), so a disk slowed down by the nodes' fsyncs never stalls a worker. A harness
/// that crashes loses at most the last interval.
final class Recorder: Sendable {
    let start: ContinuousClock.Instant
    private let writer: HistoryWriter
    /// One thread, so queued batches are written in the order they were queued.
    private let pool = NIOThreadPool(numberOfThreads: 1)
    private let pending = Mutex<[HistoryEvent]>([])
    private let closed = Atomic<Bool>(false)
    /// The first write that failed (a full disk, say): the run cannot be judged without its history.
    private let failure = Mutex<String?>(nil)

    static let flushInterval = Duration.milliseconds(100)

    init(fileAt url: URL, start: ContinuousClock.Instant = .now) throws {
        self.writer = try HistoryWriter(creatingFileAt: url)
        self.start = start
        pool.start()
    }

    /// Milliseconds since the run started.
    var now: Double {
        let (seconds, attoseconds) = start.duration(to: .now).components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    /// Queues events, in this order and with no other caller's events between them.
    func append(_ events: [HistoryEvent]) {
        guard !events.isEmpty else { return }
        pending.withLock { $0.append(contentsOf: events) }
    }

    func fault(_ kind: FaultKind, _ phase: FaultPhase, target: String, detail: String? = nil) {
        append([.fault(FaultEvent(time: now, kind: kind, target: target, phase: phase, detail: detail))])
    }

    /// Writes queued events every `flushInterval` until `close()`.
    func run() async {
        while !closed.load(ordering: .acquiring) {
            flush()
            try? await Task.sleep(for: Self.flushInterval)
        }
    }

    /// Writes what is queued, closes the file and stops the writing thread; throws if any write failed.
    func close() async throws(ChaosError) {
        closed.store(true, ordering: .releasing)
        flush()
        let writer = self.writer
        do {
            // Queued behind every batch `flush` handed over, so it closes a complete file.
            try await pool.runIfActive { try writer.close() }
        } catch {
            recordFailure(error)
        }
        try? await pool.shutdownGracefully()
        if let message = failure.withLock({ $0 }) {
            throw .harness("could not write the history: \(message)")
        }
    }

    /// Hands the queued events to the writing thread. The batch is taken and submitted under one lock, so
    /// batches reach the file in the order they were taken.
    private func flush() {
        let writer = self.writer
        pending.withLock { queued in
            guard !queued.isEmpty else { return }
            let batch = queued
            queued = []
            pool.submit { [self] state in
                guard case .active = state else {
                    recordFailure(ChaosError.harness("the history thread stopped with \(batch.count) events unwritten"))
                    return
                }
                do {
                    try writer.append(contentsOf: batch)
                } catch {
                    recordFailure(error)
                }
            }
        }
    }

    private func recordFailure(_ error: any Error) {
        failure.withLock { if $0 == nil { $0 = "\(error)" } }
    }
}
