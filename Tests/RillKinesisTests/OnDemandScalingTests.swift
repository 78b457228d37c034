import RillKinesis
import RillModel
import Testing

@Suite struct OnDemandScalingTests {
    let ranges = HashRange.evenSplit(count: 4)

    func key(_ stream: String, _ shard: UInt32) -> ShardWriteMeter.Key { .init(streamID: stream, shard: shard) }

    @Test("the meter keeps running totals and a bounded ring of the newest sampled hash keys")
    func meterSamples() {
        var meter = ShardWriteMeter()
        let keys = (0..<1_000).map { HashKey(UInt128($0)) }
        meter.record(key("s", 0), bytes: 10_000, hashKeys: keys)
        let totals = meter.totals
        #expect(totals.count == 1)
        #expect(totals[0].records == 1_000)
        #expect(totals[0].bytes == 10_000)
        #expect(totals[0].sampledHashKeys.count == ShardWriteMeter.sampleCapacity)
        // Every fourth record, the newest 128 of them, oldest first: records 491, 495, ... 999.
        #expect(totals[0].sampledHashKeys.first == HashKey(491))
        #expect(totals[0].sampledHashKeys.last == HashKey(999))
        meter.keep(streams: [])
        #expect(meter.totals.isEmpty)
    }

    @Test("rates are summed over nodes from each node's previous report; a restarted node waits a round")
    func windowSumsNodes() {
        var window = TrafficWindow()
        func totals(_ records: UInt64, _ bytes: UInt64, samples: [HashKey] = []) -> [ShardWriteMeter.Totals] {
            [.init(key: key("s", 1), records: records, bytes: bytes, sampledHashKeys: samples)]
        }
        #expect(
            window.observe([1: totals(100, 1_000), 2: totals(50, 500)], atMillis: 0)[key("s", 1)]?.recordsPerSecond == 0
        )
        let second = window.observe(
            [
                1: totals(1_100, 11_000, samples: [HashKey(5), HashKey(7)]),
                2: totals(1_050, 10_500, samples: [HashKey(9)]),
            ],
            atMillis: 2_000
        )
        #expect(
            second[key("s", 1)] == .init(recordsPerSecond: 1_000, bytesPerSecond: 10_000, medianHashKey: HashKey(7))
        )
        // Node 2 restarted (its totals went back) and node 1 did not answer: no rate from either this round.
        let third = window.observe([2: totals(10, 100)], atMillis: 4_000)
        #expect(third[key("s", 1)]?.recordsPerSecond == 0)
        // Node 1 answers again: its rate spans both rounds.
        let fourth = window.observe([1: totals(5_100, 51_000), 2: totals(2_010, 20_100)], atMillis: 6_000)
        #expect(fourth[key("s", 1)]?.recordsPerSecond == 2_000, "1,000 records/s from each node")
    }

    @Test("a stream hot for the split window splits where its load is; an incomplete round decides nothing")
    func roundsDecide() {
        var policy = OnDemandScaler.Policy()
        policy.splitAfterMillis = 4_000
        var scaling = OnDemandScaling(policy: policy)
        let shards = (0..<4).map {
            OnDemandScaling.OpenShard(index: UInt32($0), name: "shardId-\($0)", range: ranges[$0])
        }
        let hotKey = HashKey(ranges[2].start.rawValue + 12_345)
        var written: UInt64 = 0
        var events: [OnDemandScaling.Event] = []
        for second in stride(from: 0, through: 20, by: 2) {
            written += 2 * 2_000
            let report = [
                ShardWriteMeter.Totals(
                    key: key("s", 2),
                    records: written,
                    bytes: written * 100,
                    sampledHashKeys: [hotKey]
                )
            ]
            // Node 2 misses rounds at 6 s and 8 s: the window keeps going, but nothing is decided then.
            let complete = second != 6 && second != 8
            events += scaling.round(
                reports: complete ? [1: report, 2: []] : [1: report],
                complete: complete,
                streams: ["s": .init(shards: shards)],
                atMillis: Int64(second) * 1_000,
                wallMillis: 1_700_000_000_000 + Int64(second) * 1_000
            )
        }
        #expect(events.count == 1)
        #expect(events.first?.decision == .split(shardID: "shardId-2", at: hotKey, utilization: 2))
        #expect(events.first?.atMillis == 10_000, "hot since 2 s, decided at the first complete round 4 s later")
        #expect(scaling.recent == events)
        // A stream that is gone takes its scaler with it.
        #expect(scaling.round(reports: [1: []], complete: true, streams: [:], atMillis: 30_000, wallMillis: 0).isEmpty)
    }

    @Test("load sitting on a shard's first key cannot be spread by a split")
    func hotStartKeyDoesNotSplit() {
        var policy = OnDemandScaler.Policy()
        policy.splitAfterMillis = 0
        var scaler = OnDemandScaler(policy: policy)
        let traffic = ranges.enumerated().map { i, range in
            OnDemandScaler.ShardTraffic(
                shardID: "shardId-\(i)",
                range: range,
                recordsPerSecond: i == 1 ? 5_000 : 0,
                bytesPerSecond: 0,
                medianHashKey: i == 1 ? range.start : nil
            )
        }
        #expect(scaler.decide(traffic, atMillis: 0).isEmpty)
    }

    @Test("warm throughput is a floor: below it the widest shard splits at its middle, a round at a time")
    func warmThroughputFloor() {
        var scaler = OnDemandScaler()
        let traffic = ranges.enumerated().map { i, range in
            OnDemandScaler.ShardTraffic(
                shardID: "shardId-\(i)",
                range: range,
                recordsPerSecond: 0,
                bytesPerSecond: 0,
                medianHashKey: nil
            )
        }
        let first = scaler.decide(traffic, atMillis: 0, floor: 6)
        let middle = HashKey(ranges[0].start.rawValue + (ranges[0].end.rawValue - ranges[0].start.rawValue) / 2 + 1)
        #expect(first == [.split(shardID: "shardId-0", at: middle, utilization: 0)])
        // At the floor, cold shards do not merge below it either.
        var policy = OnDemandScaler.Policy()
        policy.mergeAfterMillis = 0
        policy.cooldownMillis = 0
        var cold = OnDemandScaler(policy: policy)
        #expect(cold.decide(traffic, atMillis: 0, floor: 4).isEmpty)
        #expect(
            cold.decide(traffic + [], atMillis: 1, floor: 3).isEmpty,
            "four is AWS's floor whatever the warm figure"
        )
    }
}
