import RillModel
import Testing

@testable import RillTransport

@Suite struct DelayLineTests {
    @Test func withoutDelayOrBacklogAnItemGoesStraightThrough() {
        var line = DelayLine<Int>()
        #expect(line.admit(1, now: 100, delay: nil) == .deliverNow)
        #expect(line.isIdle)
    }

    @Test func itemsWaitTheirDelayAndLeaveInOrder() {
        var line = DelayLine<Int>()
        #expect(line.admit(1, now: 0, delay: 100) == .queuedArm(100))
        // A shorter delay drawn later never overtakes: it is due with the item ahead of it.
        #expect(line.admit(2, now: 10, delay: 20) == .queued)
        #expect(line.admit(3, now: 20, delay: 200) == .queued)
        #expect(line.takeDue(firedFor: 100, now: 99).isEmpty)
        #expect(line.finishRelease() == 100)
        #expect(line.takeDue(firedFor: 100, now: 100) == [1, 2])
        #expect(line.finishRelease() == 220)
        #expect(line.takeDue(firedFor: 220, now: 500) == [3])
        #expect(line.finishRelease() == nil)
        #expect(line.isIdle)
    }

    @Test func anItemAdmittedDuringAReleaseQueuesBehindIt() {
        var line = DelayLine<Int>()
        _ = line.admit(1, now: 0, delay: 50)
        #expect(line.takeDue(firedFor: 50, now: 50) == [1])
        // The delay was healed meanwhile, but item 1 is still being delivered: 2 must not pass it.
        #expect(line.admit(2, now: 51, delay: nil) == .queued)
        #expect(line.finishRelease() == 51)
        #expect(line.takeDue(firedFor: 51, now: 51) == [2])
        #expect(line.finishRelease() == nil)
        #expect(line.admit(3, now: 60, delay: nil) == .deliverNow)
    }

    @Test func releaseAllMakesEverythingDueNowInOrder() {
        var line = DelayLine<Int>()
        _ = line.admit(1, now: 0, delay: 1_000)
        _ = line.admit(2, now: 1, delay: 5_000)
        #expect(line.releaseAll(now: 10) == 10)
        // Sent after the heal, with no delay: still behind the two released ones.
        #expect(line.admit(3, now: 11, delay: nil) == .queued)
        #expect(line.takeDue(firedFor: 10, now: 11) == [1, 2, 3])
        #expect(line.finishRelease() == nil)
        // The superseded timer for 1_000 fires later and finds nothing.
        #expect(line.takeDue(firedFor: 1_000, now: 1_000).isEmpty)
        #expect(line.finishRelease() == nil)
    }

    @Test func delaysAreFixedPlusJitterWithinBounds() {
        var generator = SplitMix64(seed: 7)
        let delay = LinkDelay(fixed: .milliseconds(50), jitter: .milliseconds(150))
        let samples = (0..<1_000).map { _ in delay.sample(using: &generator) }
        #expect(samples.allSatisfy { (50_000_000...200_000_000).contains($0) })
        #expect(samples.contains { $0 < 80_000_000 } && samples.contains { $0 > 170_000_000 })
        #expect(LinkDelay(fixed: .milliseconds(3)).sample(using: &generator) == 3_000_000)
    }
}
