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

    /// How a partition cuts links, through the nodes' transport fault hooks.
    enum Cut: Sendable, Equatable {
        /// Every link of the target, both directions, Raft and RPC, cut on every node. A shard leader as the
        /// target is isolated from its followers.
        case isolate(Target)
        /// The target drops the Raft messages it sends to one other node (`toEveryone` false: the `pick`-th
        /// other node) or to all of them, with `probability`; the other direction still works.
        case drop(Target, toEveryone: Bool, pick: Int, probability: Double)
    }

    /// How a node's wall clock goes wrong.
    enum ClockSkew: Sendable, Equatable {
        /// Jumps by this many milliseconds (negative: backwards).
        case jump(millis: Int64)
        /// Runs at this many times real speed.
        case rate(Double)
    }

    /// What is done to a stopped node's shard segment.
    enum DiskDamage: Sendable, Equatable {
        /// One bit flipped at a random offset.
        case bitflip
        /// A random number of bytes cut off its end.
        case truncate
    }

    /// A slow link: every frame waits `fixedMillis` plus up to `jitterMillis`, in order.
    struct LinkDelay: Sendable, Equatable {
        var fixedMillis: Int
        var jitterMillis: Int
        /// Every link of the target (both ways), or only those to and from the `pick`-th other node.
        var toEveryone: Bool
        var pick: Int
    }

    /// How the kernel cuts a node off, in its network namespace (`--netns`).
    enum NetCut: Sendable, Equatable {
        /// The node's veth link down: no packet in or out, clients cut off too.
        case linkDown
        /// nftables drops every packet to and from the other nodes; clients still reach it.
        case isolateFromPeers
        /// nftables drops what the node sends to the `pick`-th other node; the other way still works.
        case oneWay(pick: Int)
    }

    /// How the stream under test is reshaped; resolved against its open shards when the nemesis runs.
    enum Reshard: Sendable, Equatable {
        /// SplitShard of the `pick`-th open shard (modulo their count) at the middle of its range.
        case split(pick: Int)
        /// MergeShards of the `pick`-th pair of adjacent open shards (modulo their count).
        case merge(pick: Int)
        /// UpdateShardCount (UNIFORM_SCALING) to twice the open shards, or to half of them.
        case updateShardCount(up: Bool)
    }

    enum Action: Sendable, Equatable {
        case kill(Target)
        case pause(Target)
        case wipe(Target)
        case allKill
        case partition(Cut)
        case clock(Target, ClockSkew)
        /// kill -9, then one shard segment of the node damaged (`salt` picks which and where), then restart.
        case disk(Target, DiskDamage, salt: UInt64)
        /// Every node holds back unsynced writes for `exposure`, then all are killed at once.
        case powerLoss(exposure: Duration)
        case delay(Target, LinkDelay)
        case netPartition(Target, NetCut)
        case reshard(Reshard)
        /// A new member of the target's zone joins; then the target is removed (kill -9 first unless `live`)
        /// and its replicas move to the newcomer.
        case replace(Target, live: Bool)
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
        case .partition: .partition
        case .clock: .clock
        case .disk: .disk
        case .powerLoss: .powerloss
        case .delay: .delay
        case .netPartition: .netpartition
        case .reshard: .reshard
        case .replace: .replace
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
        case .partition:
            return FaultPlan(quietBefore: quiet, action: .partition(cut()), downFor: milliseconds(2000...5000))
        case .clock:
            return FaultPlan(quietBefore: quiet, action: .clock(target(), skew()), downFor: milliseconds(2000...5000))
        case .disk:
            let damage: FaultPlan.DiskDamage = Bool.random(using: &generator) ? .bitflip : .truncate
            return FaultPlan(
                quietBefore: quiet,
                action: .disk(target(), damage, salt: generator.next()),
                downFor: milliseconds(500...1500)
            )
        case .powerloss:
            let exposure = milliseconds(500...1500)
            return FaultPlan(
                quietBefore: quiet,
                action: .powerLoss(exposure: exposure),
                downFor: milliseconds(500...2000)
            )
        case .delay:
            return FaultPlan(
                quietBefore: quiet,
                action: .delay(target(), linkDelay()),
                downFor: milliseconds(2000...5000)
            )
        case .netpartition:
            return FaultPlan(
                quietBefore: quiet,
                action: .netPartition(target(), netCut()),
                downFor: milliseconds(2000...5000)
            )
        case .reshard:
            // Permanent: nothing to heal, so no time down.
            return FaultPlan(quietBefore: quiet, action: .reshard(reshard()), downFor: .zero)
        case .replace:
            // `downFor` is how long a killed node stays down before its replacement starts; a live one
            // keeps serving until its replicas have moved.
            let live = Bool.random(using: &generator)
            return FaultPlan(
                quietBefore: quiet,
                action: .replace(target(), live: live),
                downFor: milliseconds(500...1500)
            )
        }
    }

    /// Splits and merges two in five each, UpdateShardCount one in five, up or down alike.
    private mutating func reshard() -> FaultPlan.Reshard {
        switch Int.random(in: 0..<5, using: &generator) {
        case 0, 1: .split(pick: Int.random(in: 0..<64, using: &generator))
        case 2, 3: .merge(pick: Int.random(in: 0..<64, using: &generator))
        default: .updateShardCount(up: Bool.random(using: &generator))
        }
    }

    /// 50–150 ms fixed plus up to 50 ms of jitter (50–200 ms in all): slow enough to stretch Raft round
    /// trips and gossip probes, short of the election timeout.
    private mutating func linkDelay() -> FaultPlan.LinkDelay {
        FaultPlan.LinkDelay(
            fixedMillis: Int.random(in: 50...150, using: &generator),
            jitterMillis: Int.random(in: 0...50, using: &generator),
            toEveryone: Bool.random(using: &generator),
            pick: Int.random(in: 0..<max(1, nodes - 1), using: &generator)
        )
    }

    /// A third each: the link down, nftables isolation from the peers, one direction to one peer.
    private mutating func netCut() -> FaultPlan.NetCut {
        switch Int.random(in: 0..<3, using: &generator) {
        case 0: .linkDown
        case 1: .isolateFromPeers
        default: .oneWay(pick: Int.random(in: 0..<max(1, nodes - 1), using: &generator))
        }
    }

    /// Isolation half the time; otherwise one-way loss of 50–100 % of the Raft messages, to one peer or all.
    private mutating func cut() -> FaultPlan.Cut {
        if Bool.random(using: &generator) { return .isolate(target()) }
        let target = target()
        let toEveryone = Bool.random(using: &generator)
        let pick = Int.random(in: 0..<max(1, nodes - 1), using: &generator)
        let probability = Double(Int.random(in: 50...100, using: &generator)) / 100
        return .drop(target, toEveryone: toEveryone, pick: pick, probability: probability)
    }

    /// A jump of 30 s to 10 min either way (short of the 24 h retention, past the 5 min iterator life), or a
    /// clock running 2–5 times fast.
    private mutating func skew() -> FaultPlan.ClockSkew {
        if Bool.random(using: &generator) { return .rate(Double(Int.random(in: 2...5, using: &generator))) }
        let millis = Int64(Int.random(in: 30_000...600_000, using: &generator))
        return .jump(millis: Bool.random(using: &generator) ? millis : -millis)
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
