import CoreMetrics
import NIOCore
import NIOHTTP1
import Prometheus

/// The Prometheus side of a node's metrics: the registry every series lands in, the factory that makes
/// them, and the `GET /metrics` reply that renders the registry in text exposition format 0.0.4.
public struct MetricsEndpoint: Sendable {
    /// The registry `/metrics` renders.
    public let registry: PrometheusCollectorRegistry

    /// A factory over `registry`, with buckets suited to Rill's series; `rill` bootstraps
    /// `MetricsSystem` with it, tests pass it to the metrics structs directly.
    public var factory: any MetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        // fsync and request latencies sit well below the default 5 ms floor on local disks.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        // Waiters per flush round: 1 when idle, hundreds under load.
        factory.valueHistogramBuckets["rill_storage_group_commit_batch"] = [
            1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024,
        ]
        return factory
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// The reply to `GET /metrics`.
    func reply(requestID: String) -> HTTPReply {
        var body: [UInt8] = []
        body.reserveCapacity(16 << 10)
        registry.emit(into: &body)
        return HTTPReply(
            status: .ok,
            headers: HTTPHeaders([("Content-Type", "text/plain; version=0.0.4"), ("x-amzn-RequestId", requestID)]),
            body: ByteBuffer(bytes: body)
        )
    }
}
