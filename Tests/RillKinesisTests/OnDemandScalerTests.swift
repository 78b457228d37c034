import RillKinesis
import RillModel
import Testing

@Suite struct OnDemandScalerTests {
    /// Four equal shards, as a new on-demand stream has.
    func stream(_ rates: [Double], bytes: Double = 0, medians: [HashKey?]? = nil) -> [OnDemandScaler.ShardTraffic] {
        let ranges = HashRange.evenSplit(count: rates.count)
        return rates.indices.map { i in
            .init(
                shardID: "shardId-\(i)",
                range: ranges[i],
                recordsPerSecond: rates[i],
                bytesPerSecond: bytes,
                medianHashKey: medians?[i]
            )
        }
    }

    @Test("a shard hot for the whole window splits at the median key written; a spike does not")
    func sustainedHeatSplits() {
        var policy = OnDemandScaler.Policy()
        policy.splitAfterMillis = 30_000
        policy.cooldownMillis = 60_000
        var scaler = OnDemandScaler(policy: policy)
        let ranges = HashRange.evenSplit(count: 4)
        // The load sits in the first tenth of shard 1's range.
        let hotKey = HashKey(ranges[1].start.rawValue + (ranges[1].end.rawValue - ranges[1].start.rawValue) / 10)
        let hot = stream([100, 900, 100, 100], medians: [nil, hotKey, nil, nil])
        #expect(scaler.decide(hot, atMillis: 0).isEmpty)
        #expect(
            scaler.decide(stream([100, 100, 100, 100]), atMillis: 10_000).isEmpty,
            "the heat broke: the window restarts"
        )
        #expect(scaler.decide(hot, atMillis: 20_000).isEmpty)
        #expect(scaler.decide(hot, atMillis: 49_000).isEmpty)
        #expect(scaler.decide(hot, atMillis: 50_000) == [.split(shardID: "shardId-1", at: hotKey, utilization: 0.9)])
        // Then a cool-down, whatever the traffic says.
        #expect(scaler.decide(hot, atMillis: 100_000).isEmpty)
    }

    @Test("bytes count as much as records; a split key outside the range falls back to the middle")
    func bytesAndMiddle() {
        var scaler = OnDemandScaler()
        // Shard 0's "median" lies above its range (a sample from before a reshard): the middle is used.
        let beyond = HashRange.evenSplit(count: 4)[1].start
        let heavy = stream([10, 10, 10, 10], bytes: 900_000, medians: [beyond, nil, nil, nil])
        _ = scaler.decide(heavy, atMillis: 0)
        let decisions = scaler.decide(heavy, atMillis: 30_000)
        #expect(decisions.count == 4, "every shard is at 0.86 of its byte capacity")
        let range = HashRange.evenSplit(count: 4)[0]
        #expect(
            decisions.first { if case .split("shardId-0", _, _) = $0 { true } else { false } }
                == .split(
                    shardID: "shardId-0",
                    at: HashKey(range.start.rawValue + (range.end.rawValue - range.start.rawValue) / 2 + 1),
                    utilization: 900_000 / 1_048_576
                )
        )
    }

    @Test("cold neighbours merge after a long quiet, disjoint pairs in one round, never below four shards")
    func coldMerges() {
        var policy = OnDemandScaler.Policy()
        policy.mergeAfterMillis = 60_000
        var scaler = OnDemandScaler(policy: policy)
        let six = stream([10, 10, 500, 10, 10, 10])
        #expect(scaler.decide(six, atMillis: 0).isEmpty)
        let decisions = scaler.decide(six, atMillis: 60_000)
        // Three cold pairs qualify (0+1, 3+4, 4+5); two disjoint ones bring six shards to the floor of four.
        let pairs = decisions.compactMap { decision -> [String]? in
            guard case .merge(let lower, let upper, _) = decision else { return nil }
            return [lower, upper]
        }
        #expect(pairs.count == 2 && decisions.count == 2, "\(decisions)")
        #expect(pairs.contains(["shardId-0", "shardId-1"]))
        #expect(pairs.contains(["shardId-3", "shardId-4"]) || pairs.contains(["shardId-4", "shardId-5"]))
        #expect(Set(pairs.flatMap { $0 }).count == 4, "no shard is in two merges")

        // Sixteen idle shards halve in one round: eight disjoint pairs, down to eight; then, after the
        // cool-down and the new shards' own cold window, to four, and no further.
        var sixteen = OnDemandScaler(policy: policy)
        let idle = stream(Array(repeating: 0, count: 16))
        _ = sixteen.decide(idle, atMillis: 0)
        let halving = sixteen.decide(idle, atMillis: 60_000)
        #expect(halving.count == 8)
        let eight = stream(Array(repeating: 0, count: 8))
        #expect(sixteen.decide(eight, atMillis: 90_000).isEmpty, "the merged shards' cold window starts now")
        #expect(sixteen.decide(eight, atMillis: 150_000).count == 4)
        let four = stream([0, 0, 0, 0])
        #expect(sixteen.decide(four, atMillis: 300_000).isEmpty)

        var floor = OnDemandScaler(policy: policy)
        _ = floor.decide(four, atMillis: 0)
        #expect(floor.decide(four, atMillis: 10 * 60_000).isEmpty, "four shards is the on-demand floor")
        // Shards 0 and 2 are both cold but not neighbours (1 between is busy): no merge of them.
        var gap = OnDemandScaler(policy: policy)
        let split = stream([0, 600, 0, 600, 600])
        _ = gap.decide(split, atMillis: 0)
        #expect(gap.decide(split, atMillis: 120_000).isEmpty)
    }

    @Test("one hot partition key splits its shard once, at the key, and the child it starts never splits")
    func singleHotKeySplitsOnce() {
        var policy = OnDemandScaler.Policy()
        policy.splitAfterMillis = 2_000
        policy.cooldownMillis = 2_000
        var scaler = OnDemandScaler(policy: policy)
        let ranges = HashRange.evenSplit(count: 4)
        // One partition key: every sampled hash key is the same, a third of the way into shard 2.
        let key = HashKey(ranges[2].start.rawValue + (ranges[2].end.rawValue - ranges[2].start.rawValue) / 3)
        let hot = stream([0, 0, 1_000, 0], medians: [nil, nil, key, nil])
        _ = scaler.decide(hot, atMillis: 0)
        #expect(scaler.decide(hot, atMillis: 2_000) == [.split(shardID: "shardId-2", at: key, utilization: 1)])
        // The key now starts the upper child; it stays throttled at the limit round after round, and the
        // controller does not split again: every key it could split at lies above the load.
        var shards = hot
        shards[2] = .init(
            shardID: "shardId-4",
            range: HashRange(start: ranges[2].start, end: HashKey(key.rawValue - 1)),
            recordsPerSecond: 0,
            bytesPerSecond: 0,
            medianHashKey: nil
        )
        shards.insert(
            .init(
                shardID: "shardId-5",
                range: HashRange(start: key, end: ranges[2].end),
                recordsPerSecond: 1_000,
                bytesPerSecond: 0,
                medianHashKey: key
            ),
            at: 3
        )
        for second in 2..<120 {
            #expect(scaler.decide(shards, atMillis: Int64(second) * 1_000 + 2_000).isEmpty)
        }
        // A key on the very first hash key of a shard is never split at all.
        var first = OnDemandScaler(policy: policy)
        let atStart = stream([0, 1_000, 0, 0], medians: [nil, ranges[1].start, nil, nil])
        for second in 0..<60 { #expect(first.decide(atStart, atMillis: Int64(second) * 1_000).isEmpty) }
    }

    @Test("the shard ceiling caps splits")
    func ceiling() {
        var policy = OnDemandScaler.Policy()
        policy.maxShards = 5
        var scaler = OnDemandScaler(policy: policy)
        let hot = stream([990, 980, 970, 960])
        _ = scaler.decide(hot, atMillis: 0)
        #expect(
            scaler.decide(hot, atMillis: 30_000) == [
                .split(shardID: "shardId-0", at: OnDemandScalerTests.middle(0), utilization: 0.99)
            ]
        )
    }

    static func middle(_ index: Int) -> HashKey {
        let range = HashRange.evenSplit(count: 4)[index]
        return HashKey(range.start.rawValue + (range.end.rawValue - range.start.rawValue) / 2 + 1)
    }
}
