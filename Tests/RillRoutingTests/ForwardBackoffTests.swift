import RillModel
import RillRouting
import Testing

@Suite struct ForwardBackoffTests {
    @Test("without a hint the pause doubles from 10 ms and stops at 50 ms")
    func doublesUpToTheCap() {
        var backoff = ForwardBackoff()
        let pauses = (0..<6).map { _ in backoff.pause(after: nil) }
        #expect(pauses == [10, 20, 40, 50, 50, 50].map { Duration.milliseconds($0) })
    }

    @Test("a waiting write finds a leader at most one cap after it is ready, not up to twice the wait")
    func overshootIsBounded() {
        // The retry loop's clock: attempts at the sums of the pauses. Before, with a 200 ms cap, a leader ready at
        // 160 ms was found at 310 ms and one ready at 520 ms at 710 ms.
        for ready in [15, 160, 311, 520, 900] {
            var backoff = ForwardBackoff()
            var now = 0
            while now < ready { now += Int(backoff.pause(after: nil).components.attoseconds / 1_000_000_000_000_000) }
            #expect(now - ready <= 50, "a leader ready at \(ready) ms was found at \(now) ms")
        }
    }

    @Test("a redirect naming a node not tried yet is followed at once")
    func newHintAtOnce() {
        var backoff = ForwardBackoff()
        #expect(backoff.pause(after: nil) == .milliseconds(10))
        // The old leader names the transfer's target: go now.
        #expect(backoff.pause(after: NodeID(2)) == .zero)
        // The target, still campaigning, names nobody: back off where the call left off.
        #expect(backoff.pause(after: nil) == .milliseconds(20))
    }

    @Test("two nodes naming each other are not followed at once a second time")
    func pingPongBacksOff() {
        var backoff = ForwardBackoff()
        #expect(backoff.pause(after: NodeID(2)) == .zero)
        #expect(backoff.pause(after: NodeID(3)) == .zero)
        #expect(backoff.pause(after: NodeID(2)) == .milliseconds(10))
        #expect(backoff.pause(after: NodeID(3)) == .milliseconds(20))
    }
}
