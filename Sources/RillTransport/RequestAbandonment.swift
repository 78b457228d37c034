import Synchronization

/// Lets something other than the waiting task stop one request's wait for its answer: the forwarder abandons an
/// append to a leader that this node has seen lose its term (`LeaderBoard`), rather than wait out the timeout.
///
/// A request abandoned before it was written fails as `.unreachable` (provably not delivered); after, as
/// `.abandoned` (indeterminate, like a timeout).
public final class RequestAbandonment: Sendable {
    private struct State {
        var abandoned = false
        var action: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether `abandon()` was called.
    public var isAbandoned: Bool { state.withLock { $0.abandoned } }

    /// Stops the wait now, or the moment it starts. Idempotent.
    public func abandon() {
        let action = state.withLock { state -> (@Sendable () -> Void)? in
            state.abandoned = true
            defer { state.action = nil }
            return state.action
        }
        action?()
    }

    /// Registers what stops the wait; false (nothing registered) when already abandoned.
    func onAbandon(_ action: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard !state.abandoned else { return false }
            state.action = action
            return true
        }
    }

    /// Drops the registered action once the wait is over.
    func clear() {
        state.withLock { $0.action = nil }
    }
}
