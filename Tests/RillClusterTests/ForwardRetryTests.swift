import RillCluster
import RillGossip
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

/// When a process counts as cut off (`Forwarder.isCutOff`): it knows other nodes and sees none of them alive.
@Suite struct CutOffTests {
    static func member(_ id: UInt64, _ status: SWIM.Status, role: SWIM.Role = .node) -> SWIM.Member {
        SWIM.Member(
            id: NodeID(id),
            zone: Zone("az-\(id)"),
            role: role,
            apiAddress: "127.0.0.1:\(4000 + id)",
            peerAddress: "127.0.0.1:\(7000 + id)",
            status: status
        )
    }

    @Test func cutOffOnlyWhenNoOtherNodeIsAlive() {
        let me = NodeID(1)
        let suspect = SWIM.Status.suspect(since: SWIM.Tick(0), confirmations: [])
        func cutOff(_ members: [SWIM.Member]) -> Bool { Forwarder.isCutOff(me: me, members: members) }
        #expect(!cutOff([Self.member(1, .alive)]), "alone from the start: nobody to reach")
        #expect(!cutOff([Self.member(1, .alive), Self.member(2, .alive), Self.member(3, suspect)]))
        #expect(cutOff([Self.member(1, .alive), Self.member(2, suspect), Self.member(3, .dead)]))
        // Routers hold no groups, and members that left are not waited for.
        #expect(cutOff([Self.member(1, .alive), Self.member(2, suspect), Self.member(4, .alive, role: .router)]))
        #expect(!cutOff([Self.member(1, .alive), Self.member(2, .left), Self.member(3, .alive)]))
        #expect(!cutOff([Self.member(1, .alive), Self.member(2, .left)]), "the others left: nobody to reach")
    }
}
