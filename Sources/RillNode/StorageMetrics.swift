import CoreMetrics
import Metrics
import RillStorage

/// Group-commit metrics, fed by the flusher's round reports (RillStorage itself stays free of metrics).
public struct StorageMetrics: Sendable {
    private let fsync: CoreMetrics.Timer
    private let batch: Recorder
    private let rounds: Counter

    /// - Parameter factory: where the series are made.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        fsync = CoreMetrics.Timer(label: "rill_storage_fsync_seconds", factory: factory)
        batch = Recorder(label: "rill_storage_group_commit_batch", aggregate: true, factory: factory)
        rounds = Counter(label: "rill_storage_flush_rounds_total", factory: factory)
    }

    /// A flush round finished: one fsync time per log it synced, and the waiters it served.
    public func roundFinished(_ report: Flusher.RoundReport) {
        rounds.increment()
        batch.record(report.waiters)
        for duration in report.syncDurations { fsync.record(duration: duration) }
    }
}
