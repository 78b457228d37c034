import RillModel

/// One fault the nemesis will inject: what, on whom, after how much quiet and for how long.
struct FaultPlan: Sendable, Equatable {
    /// Whom a single-node fault hits; a leader is looked up when the fault starts.
    enum Target: Sendable, Equatable {
        /// A node by 0-based index.
        case node(Int)
        /// Whichever node leads the shard with this 0-based index (a random node if none is known).
        case leaderOf(shard: Int)
    }

    enum Action: Sendable, Equatable {
        case kill(Target)
        case pause(Target)
        case wipe(Target)
        case allKill
    }

    /// Healthy time before the fault starts.
    var quietBefore: Duration
    var action: Action
    /// How long the node stays dead or stopped before the nemesis heals it.
    var downFor: Duration

    var kind: NemesisKind {
        switch action {
        case .kill: .kill
        case .pause: .pause
        case .wipe: .wipe
        case .allKill: .allkill
        }
    }
}

/// The seeded sequence of faults a run injects: the same seed and settings give the same plans, so a run
/// that found something can be repeated (the timing around the faults still varies).
///
/// Durations are short on purpose: a 60 s run should see ten faults or more. A restarted node is ready in
/// well under a second, so a cycle of quiet, fault and recovery averages about four seconds.
struct FaultSchedule: Sendable {
    private var generator: SplitMix64
    let kinds: [NemesisKind]
    let nodes: Int
    let shards: Int

    init(seed: UInt64, kinds: [NemesisKind], nodes: Int, shards: Int) {
        precondition(!kinds.isEmpty && nodes > 0 && shards > 0, "a schedule needs kinds, nodes and shards")
        // Mixed so that seeds 1, 2, 3 do not start from neighbouring states.
        self.generator = SplitMix64(seed: seed ^ 0x6368_616F_735F_6E65)
        self.kinds = kinds
        self.nodes = nodes
        self.shards = shards
    }

    mutating func next() -> FaultPlan {
        let quiet = milliseconds(500...1500)
        let kind = kinds[Int.random(in: 0..<kinds.count, using: &generator)]
        switch kind {
        case .kill: return FaultPlan(quietBefore: quiet, action: .kill(target()), downFor: milliseconds(500...2500))
        case .pause: return FaultPlan(quietBefore: quiet, action: .pause(target()), downFor: milliseconds(2000...5000))
        case .wipe: return FaultPlan(quietBefore: quiet, action: .wipe(target()), downFor: milliseconds(500...1500))
        case .allkill: return FaultPlan(quietBefore: quiet, action: .allKill, downFor: milliseconds(500...2000))
        case .partition: preconditionFailure("partition is refused when the configuration is parsed")
        }
    }

    /// Half the single-node faults hit a shard leader, where a fault hurts most; the rest any node.
    private mutating func target() -> FaultPlan.Target {
        if Bool.random(using: &generator) {
            return .leaderOf(shard: Int.random(in: 0..<shards, using: &generator))
        }
        return .node(Int.random(in: 0..<nodes, using: &generator))
    }

    private mutating func milliseconds(_ range: ClosedRange<Int>) -> Duration {
        .milliseconds(Int.random(in: range, using: &generator))
    }
}
