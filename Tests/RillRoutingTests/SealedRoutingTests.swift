import RillModel
import RillRouting
import Testing

@Suite struct SealedRoutingTests {
    static let limit = Duration.seconds(2)

    @Test("a map that still shows the refusing shard open predates the reshard's commit: fetched again")
    func refusingShardStillOpen() throws {
        let stream = try ShardMapTests.stream(shards: 2)
        // Before the fix a router routed by this map at once, was refused again and failed the records.
        let step = SealedRouting.step(
            map: ShardMap(stream),
            refused: [stream.shards[0].id],
            waited: .milliseconds(3),
            limit: Self.limit
        )
        #expect(step == .fetchAgain)
    }

    @Test("a map that shows every refusing shard closed routes the records")
    func refusingShardClosed() throws {
        var stream = try ShardMapTests.stream(shards: 2)
        stream.shards[0].closedMillis = 9
        let step = SealedRouting.step(
            map: ShardMap(stream),
            refused: [stream.shards[0].id],
            waited: .zero,
            limit: Self.limit
        )
        #expect(step == .route)
    }

    @Test("one refusing shard closed and another still open: fetched again")
    func oneOfTwoStillOpen() throws {
        var stream = try ShardMapTests.stream(shards: 2)
        stream.shards[0].closedMillis = 9
        let refused: Set<ShardID> = [stream.shards[0].id, stream.shards[1].id]
        let step = SealedRouting.step(map: ShardMap(stream), refused: refused, waited: .zero, limit: Self.limit)
        #expect(step == .fetchAgain)
    }

    @Test("past the limit the map is used as it is: a reshard that never committed reopens its parents")
    func pastTheLimit() throws {
        let stream = try ShardMapTests.stream(shards: 2)
        let step = SealedRouting.step(
            map: ShardMap(stream),
            refused: [stream.shards[0].id],
            waited: Self.limit,
            limit: Self.limit
        )
        #expect(step == .route)
    }
}
