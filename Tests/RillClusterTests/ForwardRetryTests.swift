import RillCluster
import RillKinesis
import RillModel
import Synchronization
import Testing

/// The one retry loop: it tries again what provably did not happen until its deadline, unless this process is
/// cut off from every other node, when no retry can succeed and the client had better ask another node.
@Suite struct ForwardRetryTests {
    @Test func anUnreachableTargetIsTriedAgainUntilItAnswers() async throws {
        let attempts = Mutex(0)
        let retry = ForwardRetry(deadline: .seconds(10))
        let value = try await retry.untilServed { _ -> Int? in
            attempts.withLock { $0 += 1 }
            return attempts.withLock { $0 } >= 3 ? 42 : nil
        }
        #expect(value == 42)
        #expect(attempts.withLock { $0 } == 3)
    }

    @Test func aCutOffProcessGivesUpAfterOneAttemptNotAtTheDeadline() async throws {
        let attempts = Mutex(0)
        let gaveUp = Mutex(false)
        let retry = ForwardRetry(
            deadline: .seconds(60),
            onGiveUp: { gaveUp.withLock { $0 = true } },
            isCutOff: { true }
        )
        let started = ContinuousClock.now
        await #expect {
            _ = try await retry.untilServed { _ -> Int? in
                attempts.withLock { $0 += 1 }
                return nil
            }
        } throws: { error in
            (error as? KinesisError)?.code == .serviceUnavailable
        }
        #expect(attempts.withLock { $0 } == 1)
        #expect(gaveUp.withLock { $0 })
        // Not the 60 s deadline: the loop never slept.
        #expect(started.duration(to: .now) < .seconds(30))
    }

    @Test func anAnswerStillWinsWhenCutOff() async throws {
        let retry = ForwardRetry(deadline: .seconds(60), isCutOff: { true })
        let value = try await retry.untilServed { _ -> Int? in 7 }
        #expect(value == 7)
    }
}
