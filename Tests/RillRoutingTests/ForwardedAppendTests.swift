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

    @Test("records sealed under a forwarded call go on from the node only once part of the call is decided")
    func reroutedRecordsOfAForwardedCall() {
        // Part written: sending the whole call on would write it twice, so the node appends the rest on the
        // children's leaders. Before, those records failed as InternalFailure though nothing of them was written.
        #expect(ForwardedAppend.forwardsRerouted(forwarded: true, partDecided: true, redirected: false))
        // A shard led here a moment ago redirected its records: sent back whole, the call would come here again.
        #expect(ForwardedAppend.forwardsRerouted(forwarded: true, partDecided: false, redirected: true))
        // Nothing decided, only sealed: the node still refuses the whole call (NotLeader or shardSealed).
        #expect(!ForwardedAppend.forwardsRerouted(forwarded: true, partDecided: false, redirected: false))
        // A client's own call may reach any leader anyway.
        #expect(!ForwardedAppend.forwardsRerouted(forwarded: false, partDecided: true, redirected: true))
    }
}
