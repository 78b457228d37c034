import CoreMetrics
import RillGossip
import RillModel

/// Gossip's signals (docs/metrics.md, "Gossip"), on the process-wide metrics backend.
struct GossipMetrics: Sendable {
    private let members: [String: Gauge]
    private let probes = Counter(label: "rill_gossip_probes_total")
    private let suspicions = Counter(label: "rill_gossip_suspicions_total")
    private let deaths = Counter(label: "rill_gossip_deaths_total")
    private let refutations = Counter(label: "rill_gossip_refutations_total")

    static let states = ["alive", "suspect", "dead", "left"]

    init() {
        var members: [String: Gauge] = [:]
        for state in Self.states {
            members[state] = Gauge(label: "rill_gossip_members", dimensions: [("state", state)])
        }
        self.members = members
    }

    /// Members by state in this process's view, itself included.
    struct Counts: Sendable {
        var byState: [String: Int] = [:]

        init(_ all: [SWIM.Member], myself: NodeID) {
            for member in all { byState[member.status.name, default: 0] += 1 }
        }
    }

    func update(_ counts: Counts) {
        for state in Self.states { members[state]?.record(counts.byState[state] ?? 0) }
    }

    func probed() { probes.increment() }

    /// Counts suspicions and deaths of others as this view records them, and our own refutations: a raised
    /// incarnation while alive means someone suspected (or declared dead) this process and it answered.
    func changed(_ old: SWIM.Member?, _ new: SWIM.Member, myself: NodeID) {
        guard let old else { return }
        if new.id == myself {
            if new.incarnation > old.incarnation, new.status.isAlive { refutations.increment() }
            return
        }
        if new.status.isSuspect, !old.status.isSuspect { suspicions.increment() }
        if new.status.isDead, !old.status.isDead { deaths.increment() }
    }
}
