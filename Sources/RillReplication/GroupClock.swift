/// The monotonic time a Raft group's driver runs on (STYLE §4: clocks are injected): the tick timer, the
/// resting leader's nudge grid and the sole voter's start deadline. `ContinuousGroupClock` in production; the
/// simulation passes its manual clock, advanced by the world's ticks, so the real driver runs in simulated time.
///
/// Time is a `Duration` since the clock's origin rather than an instant, so one protocol serves every clock,
/// and the origin is what all groups on a node share: resting leaders wake on one grid from it.
public protocol GroupClock: Sendable {
    /// Time since the clock's origin; never goes back.
    var elapsed: Duration { get }
    /// Returns once `elapsed` has reached `deadline`; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: Duration) async throws
}

/// `ContinuousClock` from an origin taken once per process: what nodes run on.
public struct ContinuousGroupClock: GroupClock {
    /// Taken at first use: every group of the process measures from it, so their nudge grids coincide.
    private static let origin = ContinuousClock.now

    public init() {}

    public var elapsed: Duration { Self.origin.duration(to: .now) }

    public func sleep(until deadline: Duration) async throws {
        try await Task.sleep(until: Self.origin.advanced(by: deadline), clock: .continuous)
    }
}
