import Foundation

/// Everything a chaos run needs to know, parsed and checked by `rill chaos`.
public struct ChaosConfiguration: Sendable {
    /// Cluster size; every shard keeps three replicas, one per zone.
    public var nodes: Int = 3
    /// How long the workload and the nemesis run, in seconds (cluster start-up and the final check come on top).
    public var duration: Double = 300
    /// The nemeses to draw from, each equally likely.
    public var faults: [NemesisKind] = [.kill, .pause, .wipe, .allkill]
    /// Seeds the fault schedule and every worker's choices.
    public var seed: UInt64 = 1
    /// Where the history, verdict, node data dirs and logs go; must not hold an earlier run.
    public var outDirectory: URL
    /// The `rill` executable to run nodes with.
    public var binary: String
    public var shards: Int = 4
    public var writers: Int = 4
    /// Records per second all writers together aim for (each paces its share).
    public var rate: Double = 1000
    /// How long a writer waits for a PutRecords or PutRecord reply before recording it indeterminate.
    ///
    /// Writers issue one call at a time, so a call stuck behind a paused leader holds its writer; a short
    /// timeout frees it to try another node, so the availability figures show failover rather than waiting.
    public var writeTimeout: Duration = .seconds(3)
    /// Whether writers send a record again when they do not know its outcome, and how (`--retrying-writers`);
    /// nil: each record is sent once.
    public var retryingWriters: RetryingWriters?
    /// Consumers; each reads every shard.
    public var readers: Int = 1
    public var streamName: String = "chaos"
    /// Extra flags for every `rill node` (`--log-level debug`, say).
    public var nodeArguments: [String] = []
    /// When set, the stream under test is encrypted at rest under this key (StartStreamEncryption) before the
    /// workload starts, so every record the run writes is stored encrypted (`--encrypt`).
    public var encryptionKeyID: String? = nil
    /// Node (or router) API URLs of a running cluster to work on instead of starting one (`--endpoint`).
    public var endpoints: [String] = []
    /// Run each node in a network namespace of its own (`--netns`, root only).
    public var netns = false
    /// Run the catalog churn (`StreamChurn`): small streams created, written, resharded and deleted from the
    /// moment the nodes are launched, then read back and checked for placement.
    public var churn = true

    /// Why these settings cannot make a run, or nil: unreadable endpoints, or faults the target cannot take.
    public var problem: String? {
        if !endpoints.isEmpty {
            if netns { return "--netns starts its own nodes; it cannot be combined with --endpoint" }
            if let bad = endpoints.first(where: { APIAddress(url: $0) == nil }) {
                return "--endpoint \"\(bad)\" is not http://host:port"
            }
            let refused = faults.filter { $0.needsProcesses || $0.needsNamespaces }
            if !refused.isEmpty {
                return "--faults \(refused.map(\.rawValue).joined(separator: ",")) cannot run against --endpoint: "
                    + "they need the node processes (signals, data dirs) or --netns, which a cluster this run did not "
                    + "start does not give it; use --faults partition,clock,delay"
            }
        } else if !netns, let kind = faults.first(where: \.needsNamespaces) {
            return "--faults \(kind.rawValue) needs --netns (each node in a network namespace, as root)"
        }
        return nil
    }

    public init(outDirectory: URL, binary: String) {
        self.outDirectory = outDirectory
        self.binary = binary
    }
}

/// A family of faults the nemesis can inject.
public enum NemesisKind: String, Sendable, CaseIterable, Comparable {
    /// kill -9 of one node (at random, or the leader of a random shard), restarted a few seconds later.
    case kill
    /// SIGSTOP of one node for 2–5 s, then SIGCONT.
    case pause
    /// kill -9 of one node, its data dir deleted, then restarted: it must re-replicate before counting again.
    case wipe
    /// kill -9 of every node at once, then all restarted: a power loss.
    case allkill
    /// One node cut off from the others, or one direction of its Raft traffic lossy, for 2–5 s.
    case partition
    /// One node's wall clock jumped 30 s–10 min either way, or run 2–5 times fast, for 2–5 s.
    case clock
    /// kill -9 of one node, a bit flipped in or the tail cut off one of its shard segments, restart.
    case disk
    /// Every node loses its unsynced writes at once: held back in memory for 0.5–1.5 s, then kill -9 of all.
    case powerloss
    /// One node's links slowed by 50–200 ms (fixed plus jitter, order kept) for 2–5 s.
    case delay
    /// One node cut off by the kernel for 2–5 s: its link down, or nftables rules (needs `--netns`).
    case netpartition
    /// SplitShard, MergeShards or UpdateShardCount of the stream under test, kept between 2 and 8 open shards:
    /// records are followed across parents and children (`Checker.checkKeyOrder`).
    case reshard
    /// A node replaced by a new member of its zone: the newcomer joins, the old node is removed (killed first,
    /// or live, handing its leaderships over), and every replica moves, one Raft membership change at a time.
    case replace

    /// The kinds `rill chaos` can inject.
    public static let supported: [NemesisKind] = NemesisKind.allCases

    /// Whether the nodes must run with `--fault-injection` (the faults go through `/admin/faults`).
    public var needsFaultInjection: Bool {
        switch self {
        case .partition, .clock, .powerloss, .delay: true
        case .kill, .pause, .wipe, .allkill, .disk, .netpartition, .reshard, .replace: false
        }
    }

    /// Whether the nemesis must own the node processes (signals, data dirs): not against `--endpoint`.
    public var needsProcesses: Bool {
        switch self {
        case .kill, .pause, .wipe, .allkill, .disk, .powerloss, .replace: true
        case .partition, .clock, .delay, .netpartition, .reshard: false
        }
    }

    /// Whether the nodes must run in network namespaces of their own (`--netns`).
    public var needsNamespaces: Bool { self == .netpartition }

    /// What `--faults` means when not given: every kind the target allows that needs no namespaces.
    public static func defaults(remote: Bool) -> [NemesisKind] {
        remote ? [.partition, .clock, .delay] : [.kill, .pause, .wipe, .allkill]
    }

    public static func < (lhs: NemesisKind, rhs: NemesisKind) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Parses a comma-separated list such as `kill,pause,wipe`; nil names the first unknown word.
    public static func parseList(_ text: String) -> Result<[NemesisKind], ChaosError> {
        var kinds: [NemesisKind] = []
        for word in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() })
        where !word.isEmpty {
            guard let kind = NemesisKind(rawValue: word) else {
                let known = NemesisKind.allCases.map(\.rawValue).joined(separator: ", ")
                return .failure(.harness("unknown fault \"\(word)\"; known: \(known)"))
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        guard !kinds.isEmpty else { return .failure(.harness("--faults names no fault")) }
        return .success(kinds)
    }
}
