import RillAPI
import RillKinesis
import RillModel
import RillRouting
import RillTransport

/// What one attempt to send a call to a peer came to.
package enum PeerOutcome {
    case answered(PeerAnswer)
    /// Provably never delivered: safe to send again, here or elsewhere.
    case notDelivered
}

extension PeerTransport {
    /// Sends `call` to `peer`. Only a call that provably never arrived comes back as `.notDelivered`; a lost
    /// connection or a timeout after sending is indeterminate and surfaces as InternalFailure (never resent).
    package func call(
        _ call: PeerCall,
        to peer: NodeID,
        timeout: Duration = .seconds(5),
        abandonment: RequestAbandonment? = nil
    ) async throws -> PeerOutcome {
        do {
            let bytes = try await request(call.encoded(), to: peer, timeout: timeout, abandonment: abandonment)
            do {
                return .answered(try PeerAnswer(decoding: bytes))
            } catch {
                // An empty answer comes from a node still starting (no handler yet): nothing ran there.
                if bytes.isEmpty { return .notDelivered }
                throw KinesisError.internalFailure("node \(peer) answered with an unreadable message")
            }
        } catch let error as TransportError {
            switch error {
            case .unreachable, .refused, .unknownPeer: return .notDelivered
            case .silent:
                // Nothing was sent, so the client may try anywhere; retrying here would spend a connect timeout
                // per attempt until the forward deadline, longer than many clients wait. A silent leader is cut
                // off or gone; the others elect within a second or two, and the client's retry finds the new one.
                throw KinesisError(
                    .serviceUnavailable,
                    "Node \(peer) did not answer this node's connection attempt (a partition?); retry."
                )
            case .timeout, .connectionLost:
                throw KinesisError.internalFailure("node \(peer) did not answer; the outcome is unknown, retry.")
            case .abandoned:
                throw KinesisError.internalFailure(
                    "node \(peer) was given up on while the call was under way (it stopped leading, or this node"
                        + " lost contact with every other); the outcome is unknown, retry."
                )
            case .payloadTooLarge: throw KinesisError(.invalidArgument, "The request is too large to forward.")
            case .shutdown, .faultInjectionDisabled: throw KinesisError.internalFailure("the node is shutting down")
            }
        }
    }
}

/// The retry loop of the one forwarder, shared by nodes and routers: tries again only what provably did not
/// happen (a redirect, an unreachable target, no leader yet), at once after a redirect to a node not tried yet,
/// else with backoff (`ForwardBackoff`), until a deadline.
package struct ForwardRetry {
    package var deadline: Duration
    package var onRetry: @Sendable () -> Void = {}
    package var onGiveUp: @Sendable () -> Void = {}
    /// Whether this process can reach no other node (`Forwarder.isCutOff`): then no retry can succeed before
    /// the deadline, and the client does better asking another node at once.
    package var isCutOff: @Sendable () -> Bool = { false }

    package init(
        deadline: Duration,
        onRetry: @escaping @Sendable () -> Void = {},
        onGiveUp: @escaping @Sendable () -> Void = {},
        isCutOff: @escaping @Sendable () -> Bool = { false }
    ) {
        self.deadline = deadline
        self.onRetry = onRetry
        self.onGiveUp = onGiveUp
        self.isCutOff = isCutOff
    }

    /// Runs `attempt` until it returns a value. `attempt` gets the hint of the previous redirect and returns
    /// nil when its target could not be reached. Past the deadline, or while this process reaches no other node:
    /// ServiceUnavailable, retriable, since nothing was done.
    package func untilServed<T>(_ attempt: (NodeID?) async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now.advanced(by: deadline)
        var hint: NodeID?
        var backoff = ForwardBackoff()
        while true {
            // Before every attempt, the first too: a cut-off node's attempt is sent into a connection nothing
            // answers, and waits for the call timeout.
            guard !isCutOff() else {
                onGiveUp()
                throw KinesisError(
                    .serviceUnavailable,
                    "This node reaches no other node of the cluster (a partition?); retry through another node."
                )
            }
            do {
                if let result = try await attempt(hint) { return result }
                hint = nil
            } catch let redirect as Redirect {
                hint = redirect.hint
            }
            guard ContinuousClock.now < deadline else {
                onGiveUp()
                throw KinesisError(
                    .serviceUnavailable,
                    "No leader could take the request in time (an election may be under way); retry."
                )
            }
            onRetry()
            let pause = backoff.pause(after: hint)
            if pause > .zero { try await Task.sleep(for: pause) }
        }
    }
}
