import CoreMetrics

/// The forwarder's counters (docs/metrics.md, "Cluster").
public struct ClusterMetrics: Sendable {
    let forwarded: Counter
    let retried: Counter
    let gaveUp: Counter
    /// Placement invariant violations this node sees now (`PlacementAudit`); anything but 0 is a bug.
    let placementViolations: Gauge
    let copiesSetAside: Counter
    /// Resting groups this node leads that it checked with a member's node (`RestCheck`), and those it woke
    /// because the member disagreed or could not be asked.
    let restChecked: Counter
    let restWoken: Counter

    init(factory: any MetricsFactory) {
        restChecked = Counter(label: "rill_rest_checked_total", dimensions: [], factory: factory)
        restWoken = Counter(label: "rill_rest_woken_total", dimensions: [], factory: factory)
        placementViolations = Gauge(label: "rill_placement_violations", dimensions: [], factory: factory)
        copiesSetAside = Counter(label: "rill_heal_copies_set_aside_total", dimensions: [], factory: factory)
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

extension ClusterMetrics {
    /// The audit found this many violations of the placement invariant.
    func placementAudited(violations: Int) { placementViolations.record(violations) }
    /// A diverged copy of a healed shard moved to quarantine.
    func copySetAside() { copiesSetAside.increment() }
}
