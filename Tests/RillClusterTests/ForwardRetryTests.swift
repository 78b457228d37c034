import RillCluster
import RillKinesis
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

    /// A cut-off process's attempt would be sent into a connection nothing answers and wait for the call
    /// timeout: it gives up before the first attempt, and not at the deadline.
    @Test func aCutOffProcessGivesUpWithoutAnAttemptNotAtTheDeadline() async throws {
        let attempts = Mutex(0)
        let gaveUp = Mutex(false)
        let retry = ForwardRetry(
            deadline: .seconds(60),
            onGiveUp: { gaveUp.withLock { $0 = true } },
            isCutOff: { true }
        )
        let started = ContinuousClock.now
        await Self.expectGivingUp(retry) { attempts.withLock { $0 += 1 } }
        #expect(attempts.withLock { $0 } == 0)
        #expect(gaveUp.withLock { $0 })
        // Not the 60 s deadline: the loop never slept.
        #expect(started.duration(to: .now) < .seconds(30))
    }

    /// Cut off after an attempt that reached nobody: the next attempt is not made.
    @Test func aProcessCutOffBetweenAttemptsGivesUpBeforeTheNext() async throws {
        let attempts = Mutex(0)
        let retry = ForwardRetry(deadline: .seconds(60), isCutOff: { attempts.withLock { $0 } >= 1 })
        await Self.expectGivingUp(retry) { attempts.withLock { $0 += 1 } }
        #expect(attempts.withLock { $0 } == 1)
    }

    /// Runs `retry` with attempts that never reach anyone (each calls `onAttempt`) and expects it to give up as
    /// ServiceUnavailable.
    static func expectGivingUp(_ retry: ForwardRetry, onAttempt: @escaping @Sendable () -> Void) async {
        await #expect {
            _ = try await retry.untilServed { _ -> Int? in
                onAttempt()
                return nil
            }
        } throws: { error in
            (error as? KinesisError)?.code == .serviceUnavailable
        }
    }
}
