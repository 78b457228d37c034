import CoreMetrics
import Metrics
import Synchronization

/// Request metrics of the Kinesis API edge: `rill_api_requests_total{operation,status}` and
/// `rill_api_request_duration_seconds{operation}`.
///
/// Both dimensions are bounded (about forty operations plus `unknown`, and the handful of HTTP statuses
/// Kinesis errors map to), and each series is made once and cached, so a request costs a locked lookup.
package final class APIMetrics: Sendable {
    private let factory: any MetricsFactory
    private let requests = Mutex<[RequestKey: Counter]>([:])
    private let durations = Mutex<[String: CoreMetrics.Timer]>([:])

    private struct RequestKey: Hashable {
        var operation: String
        var status: UInt
    }

    /// - Parameter factory: where the series are made.
    package init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// Metrics that go nowhere, for dispatchers built without a registry (tests).
    package static var discarded: APIMetrics { APIMetrics(factory: NOOPMetricsHandler.instance) }

    /// A Kinesis call (`operation` is the target's operation name, or `unknown`) was answered with
    /// `status` after `duration`.
    package func requestAnswered(operation: String, status: UInt, after duration: Duration) {
        let key = RequestKey(operation: operation, status: status)
        let counter =
            requests.withLock { $0[key] }
            ?? insert(key, into: requests) {
                Counter(
                    label: "rill_api_requests_total",
                    dimensions: [("operation", operation), ("status", "\(status)")],
                    factory: factory
                )
            }
        counter.increment()
        let timer =
            durations.withLock { $0[operation] }
            ?? insert(operation, into: durations) {
                CoreMetrics.Timer(
                    label: "rill_api_request_duration_seconds",
                    dimensions: [("operation", operation)],
                    factory: factory
                )
            }
        timer.record(duration: duration)
    }

    /// Caches a series made outside the lock; if another request made it first, theirs is kept.
    private func insert<Key: Hashable & Sendable, Series: Sendable>(
        _ key: Key,
        into box: borrowing Mutex<[Key: Series]>,
        make: () -> Series
    ) -> Series {
        let made = make()
        return box.withLock { table in
            if let raced = table[key] { return raced }
            table[key] = made
            return made
        }
    }
}
