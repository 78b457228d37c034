/// Exponential backoff with "equal jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): attempt n
/// waits between half and all of `min(cap, base × 2^(n−1))`, so retries spread out but never come back at once.
public struct Backoff: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .milliseconds(100), cap: Duration = .seconds(5)) {
        self.base = base
        self.cap = cap
    }

    /// The wait before retry number `attempt` (1 for the first retry), drawn from `random`.
    public func delay(attempt: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let ceiling = self.ceiling(attempt: attempt)
        let half = ceiling / 2
        let nanos = max(0, Int64(Double(half.components.seconds) * 1e9 + Double(half.components.attoseconds) / 1e9))
        return half + .nanoseconds(Int64.random(in: 0...nanos, using: &random))
    }

    /// The largest wait attempt `attempt` can get.
    public func ceiling(attempt: Int) -> Duration {
        var ceiling = base
        for _ in 1..<max(1, min(attempt, 62)) {
            ceiling *= 2
            if ceiling >= cap { return cap }
        }
        return min(ceiling, cap)
    }
}
