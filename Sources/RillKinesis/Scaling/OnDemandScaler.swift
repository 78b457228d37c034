import RillModel

/// The decisions that make an on-demand stream follow its traffic: split a shard that stays hot where its
/// load is, merge neighbours that stay cold, within AWS's on-demand bounds. Pure: the controller feeds it the
/// rates its leaders observed and the time, and executes what it returns.
public struct OnDemandScaler: Sendable {
    public struct Policy: Sendable, Equatable {
        /// A shard's write capacity: 1,000 records/s and 1 MiB/s.
        public var shardRecordsPerSecond: Double = 1_000
        public var shardBytesPerSecond: Double = 1_048_576
        /// Split when utilization (the larger of the two fractions) stays at or above this...
        public var splitUtilization: Double = 0.75
        /// ...for this long.
        public var splitAfterMillis: Int64 = 15_000
        /// Merge two neighbours when together they stay under this...
        public var mergeUtilization: Double = 0.25
        /// ...for this long.
        public var mergeAfterMillis: Int64 = 15 * 60_000
        /// No decision for a stream this soon after its last one: the new shards' rates need time to settle.
        public var cooldownMillis: Int64 = 15_000
        /// AWS's on-demand floor (a new on-demand stream has 4 shards) and a ceiling (200 MiB/s of writes).
        public var minShards = 4
        public var maxShards = 200

        public init() {}
    }

    /// One open shard's observed writes over the controller's window.
    public struct ShardTraffic: Sendable, Equatable {
        public var shardID: String
        public var range: HashRange
        public var recordsPerSecond: Double
        public var bytesPerSecond: Double
        /// The median hash key of the records written in the window, when the leader sampled any.
        public var medianHashKey: HashKey?

        public init(
            shardID: String,
            range: HashRange,
            recordsPerSecond: Double,
            bytesPerSecond: Double,
            medianHashKey: HashKey?
        ) {
            self.shardID = shardID
            self.range = range
            self.recordsPerSecond = recordsPerSecond
            self.bytesPerSecond = bytesPerSecond
            self.medianHashKey = medianHashKey
        }
    }

    public enum Decision: Sendable, Equatable {
        /// Split `shardID` so the new upper child starts at `at`.
        case split(shardID: String, at: HashKey, utilization: Double)
        case merge(lower: String, upper: String, combinedUtilization: Double)
    }

    public var policy: Policy
    /// When each shard was first seen hot (or cold) without a break since.
    private var hotSince: [String: Int64] = [:]
    private var coldSince: [String: Int64] = [:]
    private var lastDecisionMillis: Int64?

    public init(policy: Policy = Policy()) { self.policy = policy }

    public func utilization(_ shard: ShardTraffic) -> Double {
        max(shard.recordsPerSecond / policy.shardRecordsPerSecond, shard.bytesPerSecond / policy.shardBytesPerSecond)
    }

    /// What to do now, given every open shard of one stream (any order). Hot shards split first; merges only
    /// happen in a round without splits, as many disjoint pairs as the floor allows. `floor` raises the minimum shard count for this
    /// stream (its warm throughput, one shard per MiB/s): below it, the widest shard splits at its middle, one
    /// a round and without waiting for heat or the cool-down, until the stream has that many.
    public mutating func decide(_ shards: [ShardTraffic], atMillis now: Int64, floor: Int = 0) -> [Decision] {
        let shards = shards.sorted { $0.range.start < $1.range.start }
        let minimum = min(policy.maxShards, max(policy.minShards, floor))
        if shards.count < minimum,
            let widest = shards.max(by: {
                $0.range.end.rawValue - $0.range.start.rawValue < $1.range.end.rawValue - $1.range.start.rawValue
            }),
            widest.range.end.rawValue - widest.range.start.rawValue > 2
        {
            let start = widest.range.start.rawValue
            let middle = HashKey(start + (widest.range.end.rawValue - start) / 2 + 1)
            lastDecisionMillis = now
            return [.split(shardID: widest.shardID, at: middle, utilization: utilization(widest))]
        }
        let present = Set(shards.map(\.shardID))
        hotSince = hotSince.filter { present.contains($0.key) }
        coldSince = coldSince.filter { present.contains($0.key) }
        for shard in shards {
            let load = utilization(shard)
            if load >= policy.splitUtilization {
                hotSince[shard.shardID] = hotSince[shard.shardID] ?? now
            } else {
                hotSince[shard.shardID] = nil
            }
            if load < policy.mergeUtilization {
                coldSince[shard.shardID] = coldSince[shard.shardID] ?? now
            } else {
                coldSince[shard.shardID] = nil
            }
        }
        if let last = lastDecisionMillis, now - last < policy.cooldownMillis { return [] }

        var decisions: [Decision] = []
        var count = shards.count
        let hot = shards.filter { hotSince[$0.shardID].map { now - $0 >= policy.splitAfterMillis } ?? false }
            .sorted { utilization($0) > utilization($1) }
        for shard in hot where count < policy.maxShards {
            guard let at = Self.splitPoint(shard) else { continue }
            decisions.append(.split(shardID: shard.shardID, at: at, utilization: utilization(shard)))
            count += 1
        }
        if decisions.isEmpty, count > minimum {
            // Every cold pair that stayed cold long enough, coldest first; pairs share no shard, and the
            // stream keeps its floor. Merging them all in one round (not one pair a round) brings a stream
            // that scaled to 32 shards back to four in three rounds rather than 28: each merged shard is
            // under a quarter of one shard's capacity, so nothing is throttled for it.
            var pairs: [(lower: ShardTraffic, upper: ShardTraffic, combined: Double)] = []
            for (lower, upper) in zip(shards, shards.dropFirst())
            where lower.range.end.rawValue &+ 1 == upper.range.start.rawValue {
                let combined = utilization(lower) + utilization(upper)
                guard combined < policy.mergeUtilization, let a = coldSince[lower.shardID],
                    let b = coldSince[upper.shardID],
                    now - max(a, b) >= policy.mergeAfterMillis
                else { continue }
                pairs.append((lower, upper, combined))
            }
            var merging: Set<String> = []
            // Ties go to the lower pair, so equally idle shards pair up from the bottom of the range.
            let coldestFirst = pairs.sorted {
                ($0.combined, $0.lower.range.start) < ($1.combined, $1.lower.range.start)
            }
            for pair in coldestFirst where count > minimum {
                guard !merging.contains(pair.lower.shardID), !merging.contains(pair.upper.shardID) else { continue }
                merging.formUnion([pair.lower.shardID, pair.upper.shardID])
                decisions.append(
                    .merge(lower: pair.lower.shardID, upper: pair.upper.shardID, combinedUtilization: pair.combined)
                )
                count -= 1
            }
        }
        if !decisions.isEmpty {
            lastDecisionMillis = now
            for decision in decisions {
                switch decision {
                case .split(let id, _, _): hotSince[id] = nil
                case .merge(let lower, let upper, _):
                    coldSince[lower] = nil
                    coldSince[upper] = nil
                }
            }
        }
        return decisions
    }

    /// Where the load is: the median hash key written, kept strictly inside the range (SplitShard needs the new
    /// starting key above the shard's start plus one); the middle of the range when nothing was sampled. nil
    /// when the load sits on the shard's first keys (one hot partition key): no split can spread it.
    static func splitPoint(_ shard: ShardTraffic) -> HashKey? {
        let start = shard.range.start.rawValue
        let end = shard.range.end.rawValue
        guard end > start &+ 2 else { return nil }
        let middle = start + (end - start) / 2 + 1
        guard let median = shard.medianHashKey?.rawValue, median >= start, median <= end else {
            return HashKey(middle)
        }
        guard median > start &+ 1 else { return nil }
        return HashKey(median)
    }
}
