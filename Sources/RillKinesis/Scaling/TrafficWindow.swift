import RillModel

/// Turns the running totals the nodes report (`ShardWriteMeter.Totals`) into each shard's write rate over the
/// last round, summed over the nodes, with the median of the hash keys they sampled. Pure: the controller feeds
/// it the reports and the time of each round.
public struct TrafficWindow: Sendable {
    /// A shard's writes over the last round, summed over the nodes that reported a total both times.
    public struct Rate: Sendable, Equatable {
        public var recordsPerSecond: Double
        public var bytesPerSecond: Double
        public var medianHashKey: HashKey?

        public init(recordsPerSecond: Double, bytesPerSecond: Double, medianHashKey: HashKey?) {
            self.recordsPerSecond = recordsPerSecond
            self.bytesPerSecond = bytesPerSecond
            self.medianHashKey = medianHashKey
        }
    }

    private struct Seen {
        var records: UInt64
        var bytes: UInt64
        var atMillis: Int64
    }

    private struct ReporterKey: Hashable {
        var node: UInt64
        var shard: ShardWriteMeter.Key
    }

    private var previous: [ReporterKey: Seen] = [:]

    public init() {}

    /// The rates since each node's previous report. A node seen for the first time, or whose totals went back
    /// (it restarted), contributes from its next report on; a shard nobody wrote to has no rate (zero).
    public mutating func observe(
        _ reports: [UInt64: [ShardWriteMeter.Totals]],
        atMillis now: Int64
    ) -> [ShardWriteMeter.Key: Rate] {
        var sums: [ShardWriteMeter.Key: (records: Double, bytes: Double, samples: [HashKey])] = [:]
        var next: [ReporterKey: Seen] = [:]
        for (node, totals) in reports {
            for total in totals {
                let key = ReporterKey(node: node, shard: total.key)
                next[key] = Seen(records: total.records, bytes: total.bytes, atMillis: now)
                var sum = sums[total.key, default: (0, 0, [])]
                sum.samples += total.sampledHashKeys
                if let seen = previous[key], now > seen.atMillis, total.records >= seen.records,
                    total.bytes >= seen.bytes
                {
                    let seconds = Double(now - seen.atMillis) / 1000
                    sum.records += Double(total.records - seen.records) / seconds
                    sum.bytes += Double(total.bytes - seen.bytes) / seconds
                }
                sums[total.key] = sum
            }
        }
        // A node that did not answer this round keeps its last totals: its next report measures from them.
        for (key, seen) in previous where next[key] == nil && reports[key.node] == nil { next[key] = seen }
        previous = next
        return sums.mapValues { sum in
            Rate(
                recordsPerSecond: sum.records,
                bytesPerSecond: sum.bytes,
                medianHashKey: Self.median(sum.samples)
            )
        }
    }

    static func median(_ keys: [HashKey]) -> HashKey? {
        guard !keys.isEmpty else { return nil }
        return keys.sorted()[keys.count / 2]
    }
}
