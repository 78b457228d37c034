/// When one shard's next GetRecords may go: Kinesis allows five calls a second per shard, so calls are at least
/// `minInterval` apart; a shard with nothing new is polled every `idleInterval`; throttling and transport errors
/// back off exponentially with jitter until a call succeeds. Pure: instants come in as `Duration` since any origin.
public struct PollPacer: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// Records came back and the shard is still behind its tip.
        case behind
        /// Nothing new (or caught up, `MillisBehindLatest` 0).
        case caughtUp
        /// ProvisionedThroughputExceeded, or the call failed on the way.
        case throttled
    }

    public var minInterval: Duration
    public var idleInterval: Duration
    public var backoff: Backoff
    private var failures = 0

    public init(
        minInterval: Duration = .milliseconds(200),
        idleInterval: Duration = .milliseconds(500),
        backoff: Backoff = Backoff(base: .milliseconds(250), cap: .seconds(5))
    ) {
        self.minInterval = minInterval
        self.idleInterval = idleInterval
        self.backoff = backoff
    }

    /// The instant of the next call, given the outcome of the call that started at `callStarted`.
    public mutating func next(
        after outcome: Outcome,
        callStarted: Duration,
        random: inout some RandomNumberGenerator
    ) -> Duration {
        switch outcome {
        case .behind:
            failures = 0
            return callStarted + minInterval
        case .caughtUp:
            failures = 0
            return callStarted + max(minInterval, idleInterval)
        case .throttled:
            failures += 1
            return callStarted + max(minInterval, backoff.delay(attempt: failures, using: &random))
        }
    }
}
