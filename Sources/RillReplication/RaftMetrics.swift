import CoreMetrics
import RillModel
import RillRaft
import Synchronization

/// Per-group Raft gauges (docs/metrics.md, "Raft"), labelled `group` ("meta", or "<stream>/<shard>"): a
/// node's groups are bounded by the shards placed on it. Sampled from each driver's status once a second.
public final class RaftMetrics: Sendable {
    private let factory: any MetricsFactory
    private let series = Mutex<[String: GroupSeries]>([:])
    private let elections: Counter
    private let snapshotInstalls: Counter

    public init(factory: any MetricsFactory) {
        self.factory = factory
        elections = Counter(label: "rill_raft_elections_total", dimensions: [], factory: factory)
        snapshotInstalls = Counter(label: "rill_raft_snapshot_installs_total", dimensions: [], factory: factory)
    }

    /// A group on this node installed a snapshot from its leader (counted as it happens, not sampled).
    public func snapshotInstalled() {
        snapshotInstalls.increment()
    }

    private final class GroupSeries: Sendable {
        let term: Gauge
        let role: Gauge
        let commit: Gauge
        let applied: Gauge
        let matchLag: Gauge
        let abstaining: Gauge
        let resting: Gauge
        /// What was last recorded; nil before the first sample.
        let last = Mutex<Sample?>(nil)

        /// The gauges' values, as one comparable value.
        struct Sample: Equatable {
            var term, role, commit, applied, matchLag, abstaining, resting: Int

            init(_ status: RaftGroupDriver.Status) {
                term = Int(status.term.rawValue)
                role = RaftMetrics.code(status.role)
                commit = Int(status.commit.rawValue)
                applied = Int(status.applied.rawValue)
                matchLag = Int(status.maxFollowerLag)
                abstaining = status.abstaining ? 1 : 0
                resting = status.resting ? 1 : 0
            }
        }

        init(group: String, factory: any MetricsFactory) {
            let labels = [("group", group)]
            term = Gauge(label: "rill_raft_term", dimensions: labels, factory: factory)
            role = Gauge(label: "rill_raft_role", dimensions: labels, factory: factory)
            commit = Gauge(label: "rill_raft_commit_index", dimensions: labels, factory: factory)
            applied = Gauge(label: "rill_raft_applied_index", dimensions: labels, factory: factory)
            matchLag = Gauge(label: "rill_raft_replica_match_lag", dimensions: labels, factory: factory)
            abstaining = Gauge(label: "rill_raft_abstaining", dimensions: labels, factory: factory)
            resting = Gauge(label: "rill_raft_resting", dimensions: labels, factory: factory)
        }

        func destroy() {
            for gauge in [term, role, commit, applied, matchLag, abstaining, resting] { gauge.destroy() }
        }
    }

    /// Records one group's status; counts an election each time a group's term moves on.
    public func record(group: String, _ status: RaftGroupDriver.Status) {
        let made = series.withLock { table -> GroupSeries in
            if let existing = table[group] { return existing }
            let fresh = GroupSeries(group: group, factory: factory)
            table[group] = fresh
            return fresh
        }
        let sample = GroupSeries.Sample(status)
        // A resting group's sample rarely changes: the gauges are written only when it does (seven metric
        // updates per group every second were most of the sample's cost with a thousand idle shards).
        let (changed, moved) = made.last.withLock { last -> (Bool, Bool) in
            defer { last = sample }
            guard let previous = last else { return (true, false) }
            return (previous != sample, previous.term != 0 && sample.term > previous.term)
        }
        guard changed else { return }
        made.term.record(sample.term)
        made.role.record(sample.role)
        made.commit.record(sample.commit)
        made.applied.record(sample.applied)
        made.matchLag.record(sample.matchLag)
        made.abstaining.record(sample.abstaining)
        made.resting.record(sample.resting)
        if moved { elections.increment() }
    }

    /// Drops the series of groups no longer on this node.
    public func keep(only groups: Set<String>) {
        let gone = series.withLock { table -> [GroupSeries] in
            let stale = table.keys.filter { !groups.contains($0) }
            return stale.compactMap { table.removeValue(forKey: $0) }
        }
        for item in gone { item.destroy() }
    }

    /// 0 follower, 1 candidate (or pre-candidate), 2 leader.
    static func code(_ role: Raft.Role) -> Int {
        switch role {
        case .follower: 0
        case .preCandidate, .candidate: 1
        case .leader: 2
        }
    }
}
