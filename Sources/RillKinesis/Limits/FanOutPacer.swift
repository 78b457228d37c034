/// Paces one enhanced fan-out consumer's subscription to one shard at 2 MiB/s (Kinesis's per-consumer,
/// per-shard limit): an event carries at most what the bucket holds, and once it is spent the next event waits
/// until the bucket refills. Records are never split, so an event may overdraw by its last record; the debt
/// delays the next one. The clock is the caller's.
public struct FanOutPacer: Sendable, Equatable {
    public static let bytesPerSecond = Double(2 << 20)
    /// The most one event may carry, as for GetRecords.
    public static let maxEventBytes = 10 << 20

    private var bucket: TokenBucket

    /// A pacer that may send a second's worth at once, as a fresh subscription on AWS does.
    public init(nowMillis: Int64) {
        bucket = TokenBucket(capacity: Self.bytesPerSecond, perSecond: Self.bytesPerSecond, nowMillis: nowMillis)
    }

    /// What the next event may carry at `nowMillis`, or how long to wait before it may carry anything.
    public enum Next: Sendable, Equatable {
        /// Read up to `maxBytes` (at least one record is always read, even if larger).
        case send(maxBytes: Int)
        /// Nothing may be sent for `millis`.
        case wait(millis: Int64)
    }

    public mutating func next(nowMillis: Int64) -> Next {
        let wait = bucket.millisUntilTokens(nowMillis: nowMillis)
        guard wait == 0 else { return .wait(millis: wait) }
        let available = bucket.available(nowMillis: nowMillis)
        return .send(maxBytes: max(1, min(Self.maxEventBytes, Int(available))))
    }

    /// Charges what an event carried.
    public mutating func sent(bytes: Int, nowMillis: Int64) {
        bucket.debit(Double(bytes), nowMillis: nowMillis)
    }
}
