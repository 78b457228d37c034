import RillKinesis
import RillModel
import Testing

/// When `rill tail` polls a shard next.
@Suite struct PollPacerTests {
    @Test("calls behind the tip are 200 ms apart, caught-up polls 500 ms, throttling backs off and resets")
    func pacing() {
        var random = SplitMix64(seed: 9)
        var pacer = PollPacer()
        #expect(
            pacer.next(after: .behind, callStarted: .seconds(1), random: &random) == .seconds(1) + .milliseconds(200)
        )
        #expect(
            pacer.next(after: .caughtUp, callStarted: .seconds(1), random: &random) == .seconds(1) + .milliseconds(500)
        )
        var previousCeiling = Duration.zero
        for attempt in 1...6 {
            let at = pacer.next(after: .throttled, callStarted: .zero, random: &random)
            let ceiling = pacer.backoff.ceiling(attempt: attempt)
            #expect(at >= max(.milliseconds(200), ceiling / 2) && at <= max(.milliseconds(200), ceiling))
            #expect(ceiling >= previousCeiling)
            previousCeiling = ceiling
        }
        #expect(previousCeiling == .seconds(5))
        #expect(pacer.next(after: .behind, callStarted: .zero, random: &random) == .milliseconds(200))
        #expect(pacer.next(after: .throttled, callStarted: .zero, random: &random) <= .milliseconds(250))
    }
}
