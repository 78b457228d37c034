import RillModel
import RillRouting
import Testing

@Suite struct ForwardedAppendTests {
    let me = NodeID(1)

    @Test("records whose shards are all led here are served here")
    func servedHere() {
        #expect(ForwardedAppend.decide(leaders: [me], me: me) == .serve)
        #expect(ForwardedAppend.decide(leaders: [me, me], me: me) == .serve)
        #expect(ForwardedAppend.decide(leaders: [], me: me) == .serve)
    }

    @Test("one shard led elsewhere, or electing: a redirect to its leader, or without a hint")
    func oneShard() {
        #expect(ForwardedAppend.decide(leaders: [NodeID(2)], me: me) == .redirect(NodeID(2)))
        #expect(ForwardedAppend.decide(leaders: [nil], me: me) == .redirect(nil))
    }

    @Test("several shards all led by one other node: the whole call goes there")
    func severalShardsOneLeader() {
        #expect(ForwardedAppend.decide(leaders: [NodeID(3), NodeID(3)], me: me) == .redirect(NodeID(3)))
    }

    @Test("the children of a split led by different nodes: route again by the current map, never a redirect")
    func childrenLedApart() {
        // Before: each child's leader redirected the call to the other's until the sender's deadline.
        #expect(ForwardedAppend.decide(leaders: [NodeID(2), NodeID(3)], me: me) == .routeAgain)
        #expect(ForwardedAppend.decide(leaders: [me, NodeID(3)], me: me) == .routeAgain)
        #expect(ForwardedAppend.decide(leaders: [NodeID(3), me], me: me) == .routeAgain)
    }

    @Test("a child still electing beside one led anywhere: route again, so each child waits for its own leader")
    func childElecting() {
        #expect(ForwardedAppend.decide(leaders: [me, nil], me: me) == .routeAgain)
        #expect(ForwardedAppend.decide(leaders: [nil, NodeID(2)], me: me) == .routeAgain)
        #expect(ForwardedAppend.decide(leaders: [nil, nil], me: me) == .routeAgain)
    }
}
