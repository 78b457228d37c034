import CoreMetrics
import RillCluster

/// The router's counters (docs/metrics.md, "Router").
public struct RouterMetrics: Sendable {
    let forwarded: Counter
    let retried: Counter
    let redirected: Counter
    let gaveUp: Counter
    /// The peer transport's counters, sampled once a second.
    let transport: TransportMetrics

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        forwarded = Counter(label: "rill_router_forwarded_total", dimensions: [], factory: factory)
        retried = Counter(label: "rill_router_retries_total", dimensions: [], factory: factory)
        redirected = Counter(label: "rill_router_redirects_total", dimensions: [], factory: factory)
        gaveUp = Counter(label: "rill_router_deadline_exceeded_total", dimensions: [], factory: factory)
        transport = TransportMetrics(factory: factory)
    }
}
