import Synchronization

/// A wall clock the chaos clock nemesis can move: jumped by an offset, or run at a rate other than 1,
/// on top of an underlying clock. Only a node started with `--fault-injection` uses one.
///
/// Only wall time moves: Raft, SWIM and timeouts run on the monotonic clock, so a jump here must never
/// cause an election (ARCHITECTURE "Clocks").
public final class SkewableWallClock: WallClock {
    /// How this clock departs from the one beneath.
    public struct Skew: Sendable, Equatable {
        /// Added to the underlying time (after the rate), in milliseconds.
        public var offsetMillis: Int64 = 0
        /// Faulted time advances `rate` milliseconds per underlying millisecond.
        public var rate: Double = 1

        public init(offsetMillis: Int64 = 0, rate: Double = 1) {
            self.offsetMillis = offsetMillis
            self.rate = rate
        }
    }

    private struct State {
        var skew = Skew()
        /// Where the rate applies from: underlying time when it was set.
        var anchor: Int64 = 0
    }

    private let base: any WallClock
    private let state = Mutex(State())

    public init(base: any WallClock = SystemWallClock()) {
        self.base = base
    }

    public var skew: Skew { state.withLock { $0.skew } }

    public func nowMillis() -> Int64 {
        let now = base.nowMillis()
        return state.withLock { Self.faulted(now, $0) }
    }

    /// Jumps the clock by `millis` (negative: backwards) from where it is now.
    public func jump(byMillis millis: Int64) {
        state.withLock { $0.skew.offsetMillis += millis }
    }

    /// Runs the clock at `rate` from now on, continuing from the time it shows now (no jump).
    public func setRate(_ rate: Double) {
        let now = base.nowMillis()
        state.withLock { state in
            let shown = Self.faulted(now, state)
            state.anchor = now
            state.skew.rate = rate
            // Keeps the shown time continuous: at `now` the new formula gives `shown`.
            state.skew.offsetMillis = shown - now
        }
    }

    /// Back to the underlying clock; the time shown may jump.
    public func heal() {
        state.withLock { $0 = State() }
    }

    private static func faulted(_ now: Int64, _ state: State) -> Int64 {
        guard state.skew.rate != 1 else { return now + state.skew.offsetMillis }
        let elapsed = Double(now - state.anchor) * state.skew.rate
        return now + state.skew.offsetMillis + Int64(elapsed) - (now - state.anchor)
    }
}
