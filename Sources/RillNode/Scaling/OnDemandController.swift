import CoreMetrics
import Foundation
import RillKinesis
import Synchronization

/// The controller's scaling state (`OnDemandScaling`) on this node, with the clock its rounds are timed by
/// and the counters of its decisions. Only the metadata leader's rounds decide; a node that loses the
/// leadership forgets its state, so a new leader starts its windows afresh rather than from stale figures.
final class OnDemandController: Sendable {
    /// How often the leader gathers the nodes' write totals and decides.
    static let interval: Duration = .seconds(2)

    private let state: Mutex<OnDemandScaling>
    private let started = ContinuousClock.now
    let splits: Counter
    let merges: Counter

    init(policy: OnDemandScaler.Policy, factory: any MetricsFactory) {
        state = Mutex(OnDemandScaling(policy: policy))
        splits = Counter(label: "rill_on_demand_decisions_total", dimensions: [("decision", "split")], factory: factory)
        merges = Counter(label: "rill_on_demand_decisions_total", dimensions: [("decision", "merge")], factory: factory)
    }

    /// Milliseconds since this controller started: rounds are timed by a monotonic clock, so a wall clock
    /// that jumps cannot make a spike look sustained.
    var nowMillis: Int64 {
        let elapsed = started.duration(to: .now).components
        return elapsed.seconds * 1_000 + elapsed.attoseconds / 1_000_000_000_000_000
    }

    func round(
        reports: [UInt64: [ShardWriteMeter.Totals]],
        complete: Bool,
        streams: [String: OnDemandScaling.Stream],
        wallMillis: Int64
    ) -> [OnDemandScaling.Event] {
        let now = nowMillis
        return state.withLock {
            $0.round(reports: reports, complete: complete, streams: streams, atMillis: now, wallMillis: wallMillis)
        }
    }

    /// Forgets the windows and scalers (leadership moved elsewhere); keeps the recent decisions for status.
    func reset() {
        state.withLock { state in
            let recent = state.recent
            state = OnDemandScaling(policy: state.policy, recent: recent)
        }
    }

    var recent: [OnDemandScaling.Event] { state.withLock { $0.recent } }
}
