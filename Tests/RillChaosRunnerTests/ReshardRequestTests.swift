import Testing

@testable import RillChaosRunner

/// The reshard nemesis's choice of call, from its planned move and the stream's open shards.
@Suite struct ReshardRequestTests {
    /// `count` open shards splitting the hash key space evenly, ids 0..<count.
    func evenShards(_ count: Int) -> [ShardRanges.Shard] {
        let width = UInt128.max / UInt128(count)
        return (0..<count).map { index in
            let start = UInt128(index) * width
            let end = index == count - 1 ? UInt128.max : start + width - 1
            return ShardRanges.Shard(id: "shardId-\(index)", start: start, end: end)
        }
    }

    @Test func aSplitSplitsTheChosenShardAtItsMiddle() {
        let open = evenShards(4)
        let request = Nemesis.request(for: .split(pick: 6), open: open)
        #expect(request == .split(shard: "shardId-2", at: ShardRanges.middle(of: open[2])!))
    }

    @Test func aMergeMergesAnAdjacentPair() {
        #expect(Nemesis.request(for: .merge(pick: 4), open: evenShards(4)) == .merge("shardId-1", "shardId-2"))
    }

    @Test func theStreamStaysBetweenTwoAndEightOpenShards() {
        // A split at the top merges instead; a merge at the bottom splits instead.
        if case .merge = Nemesis.request(for: .split(pick: 0), open: evenShards(8)) {
        } else {
            Issue.record("a split of 8 open shards did not merge")
        }
        if case .split = Nemesis.request(for: .merge(pick: 0), open: evenShards(2)) {
        } else {
            Issue.record("a merge of 2 open shards did not split")
        }
        for count in 2...8 {
            for up in [true, false] {
                guard
                    case .updateShardCount(let target) = Nemesis.request(
                        for: .updateShardCount(up: up),
                        open: evenShards(count)
                    )
                else {
                    Issue.record("UpdateShardCount became another call")
                    continue
                }
                #expect(Nemesis.openShardRange.contains(target), "\(count) open, up \(up): \(target)")
                // Kinesis takes half to twice the open count.
                #expect(target * 2 >= count && target <= count * 2, "\(count) open, up \(up): \(target)")
                #expect(target != count, "\(count) open, up \(up): no change")
            }
        }
    }
}
