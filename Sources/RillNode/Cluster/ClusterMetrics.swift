import CoreMetrics

/// The forwarder's counters (docs/metrics.md, "Cluster").
public struct ClusterMetrics: Sendable {
    let forwarded: Counter
    let retried: Counter
    let gaveUp: Counter

    init(factory: any MetricsFactory) {
        forwarded = Counter(label: "rill_forward_requests_total", dimensions: [], factory: factory)
        retried = Counter(label: "rill_forward_retries_total", dimensions: [], factory: factory)
        gaveUp = Counter(label: "rill_forward_deadline_exceeded_total", dimensions: [], factory: factory)
    }
}

extension NodeMetrics {
    /// A call or an append went to another node.
    func forwarded() { cluster.forwarded.increment() }
    /// A call was tried again after a redirect, an election or an unreachable leader.
    func forwardRetried() { cluster.retried.increment() }
    /// No leader took a call before the forward deadline.
    func forwardGaveUp() { cluster.gaveUp.increment() }
}
