import RillGossip
import RillModel
import Testing

/// What a change to a member's record means to the node, the forwarder and the transport (`SWIM.MemberChange`).
@Suite struct MemberChangeTests {
    static func member(incarnation: UInt64, _ status: SWIM.Status, hintsVersion: UInt64 = 0) -> SWIM.Member {
        var member = Fixtures.member(2, incarnation: incarnation, status: status)
        member.hintsVersion = hintsVersion
        return member
    }

    static let suspect = SWIM.Status.suspect(since: SWIM.Tick(0), confirmations: [NodeID(1)])

    @Test("Suspected, dead or left: may be gone, not back; a later incarnation is both; alive again is back")
    func whatEachTransitionMeans() {
        let alive = Self.member(incarnation: 1, .alive)
        func change(_ old: SWIM.Member?, _ new: SWIM.Member) -> SWIM.MemberChange {
            SWIM.MemberChange(old: old, new: new)
        }
        for status in [Self.suspect, .dead, .left] {
            let gone = change(alive, Self.member(incarnation: 1, status))
            #expect(gone.livenessChanged && gone.mayBeGone && !gone.isBack && !gone.restarted, "\(status)")
        }
        // Suspect, then dead: still news that it may be gone (every listener treats it as such again, harmlessly).
        #expect(change(Self.member(incarnation: 1, Self.suspect), Self.member(incarnation: 1, .dead)).mayBeGone)

        let restarted = change(Self.member(incarnation: 1, .dead), Self.member(incarnation: 7, .alive))
        #expect(restarted.restarted && restarted.mayBeGone && restarted.isBack)
        // Restarted while this instance still saw the old process alive: a new process all the same.
        let quickRestart = change(alive, Self.member(incarnation: 7, .alive))
        #expect(quickRestart.restarted && quickRestart.mayBeGone && quickRestart.isBack)

        // A refuted suspicion raises the incarnation too: nothing tells it from a restart, so it counts as one.
        let refuted = change(Self.member(incarnation: 1, Self.suspect), Self.member(incarnation: 2, .alive))
        #expect(refuted.isBack && refuted.restarted && refuted.mayBeGone)
        let cleared = change(Self.member(incarnation: 1, .dead), Self.member(incarnation: 1, .alive))
        #expect(cleared.isBack && !cleared.mayBeGone && !cleared.restarted)

        // First sight, and payload-only changes, say nothing about liveness.
        let first = change(nil, alive)
        #expect(first.livenessChanged && !first.mayBeGone && !first.isBack && !first.restarted)
        let hints = change(alive, Self.member(incarnation: 1, .alive, hintsVersion: 3))
        #expect(!hints.livenessChanged && !hints.mayBeGone && !hints.isBack)
        #expect(change(nil, Self.member(incarnation: 1, Self.suspect)).mayBeGone)
    }
}
