import RillKinesis
import Synchronization

/// This node's CloudWatch metrics: the `AWS/Kinesis` minute buckets of what it served (`RegionalMetricStores`,
/// pure) behind a lock. Each event carries its time, read by the caller from the node's wall clock.
public final class CloudWatchRecorder: Sendable {
    private let stores: Mutex<RegionalMetricStores>

    /// - Parameter retentionMinutes: how long minute buckets are kept (CloudWatch's tutorials look back up to
    ///   three hours; four are kept).
    public init(retentionMinutes: Int64 = 4 * 60) {
        stores = Mutex(RegionalMetricStores(retentionMinutes: retentionMinutes))
    }

    /// Adds one data-path event at `now`.
    public func record(_ event: KinesisMetrics.Event, in scope: KinesisMetrics.Scope, atMillis now: Int64) {
        stores.withLock { $0.record(event, in: scope, atMillis: now) }
    }

    /// The buckets of the metrics named in `names` from `start` on, every region's summed: the traffic the console
    /// draws (`/admin/status`'s `traffic`).
    public func recent(_ names: Set<String>, fromMillis start: Int64, toMillis end: Int64) -> MetricStore {
        stores.withLock { stores in
            var out = MetricStore(retentionMinutes: stores.retentionMinutes)
            for store in stores.regions.values {
                for (metric, buckets) in store.series where names.contains(metric.name) {
                    for (minute, bucket) in buckets where minute + 60_000 > start && minute < end {
                        out.merge(metric, minute: minute, bucket, unit: store.units[metric.name] ?? "None")
                    }
                }
            }
            return out
        }
    }

    /// This node's part of a CloudWatch call in `region`.
    public func selecting(_ selection: MetricSelection, region: String) -> MetricStore {
        stores.withLock { $0.selecting(selection, region: region) }
    }
}
