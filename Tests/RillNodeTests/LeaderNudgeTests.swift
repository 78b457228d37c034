import Testing

@testable import RillReplication

@Suite struct LeaderNudgeTests {
    let origin = Duration.seconds(12_345)
    let period = Duration.seconds(1)

    @Test func leadersRestingAtDifferentTimesWakeTogether() {
        let early = RaftGroupDriver.nextNudge(after: origin + .milliseconds(120), origin: origin, period: period)
        let late = RaftGroupDriver.nextNudge(after: origin + .milliseconds(870), origin: origin, period: period)
        #expect(early == origin + .seconds(1))
        #expect(late == early)
    }

    @Test func theNudgeIsAlwaysAheadAndAtMostOnePeriodAway() {
        // On a grid point the next one is due, never the present one.
        #expect(
            RaftGroupDriver.nextNudge(after: origin + .seconds(3), origin: origin, period: period) == origin
                + .seconds(4)
        )
        for step in stride(from: 0, through: 100_000, by: 997) {
            let now = origin + .milliseconds(step) + .nanoseconds(step % 7)
            let nudge = RaftGroupDriver.nextNudge(after: now, origin: origin, period: period)
            #expect(nudge > now && nudge - now <= period)
            #expect((nudge - origin) / period == ((nudge - origin) / period).rounded())
        }
    }
}
