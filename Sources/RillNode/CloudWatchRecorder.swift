import NIOConcurrencyHelpers
import RillKinesis

/// This node's CloudWatch metrics: the `AWS/Kinesis` minute buckets of what it served (`RegionalMetricStores`,
/// pure) behind a lock. Each event carries its time, read by the caller from the node's wall clock.
public final class CloudWatchRecorder: Sendable {
    private let stores: NIOLockedValueBox<RegionalMetricStores>

    /// - Parameter retentionMinutes: how long minute buckets are kept (CloudWatch's tutorials look back up to
    ///   three hours; four are kept).
    public init(retentionMinutes: Int64 = 4 * 60) {
        stores = NIOLockedValueBox(RegionalMetricStores(retentionMinutes: retentionMinutes))
    }

    /// Adds one data-path event at `now`.
    public func record(_ event: KinesisMetrics.Event, in scope: KinesisMetrics.Scope, atMillis now: Int64) {
        stores.withLockedValue { $0.record(event, in: scope, atMillis: now) }
    }

    /// This node's part of a CloudWatch call in `region`.
    public func selecting(_ selection: MetricSelection, region: String) -> MetricStore {
        stores.withLockedValue { $0.selecting(selection, region: region) }
    }
}
