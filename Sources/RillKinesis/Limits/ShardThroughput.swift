/// A token bucket over wall-clock milliseconds passed in by the caller (no clock inside).
public struct TokenBucket: Sendable, Equatable {
    public let capacity: Double
    public let perSecond: Double
    public private(set) var tokens: Double
    private var lastMillis: Int64

    /// A bucket holding `tokens` (a full one by default) at `nowMillis`.
    public init(capacity: Double, perSecond: Double, nowMillis: Int64, tokens: Double? = nil) {
        self.capacity = capacity
        self.perSecond = perSecond
        self.tokens = min(capacity, tokens ?? capacity)
        self.lastMillis = nowMillis
    }

    mutating func refill(_ nowMillis: Int64) {
        // A clock that steps backwards refills nothing rather than draining the bucket.
        let elapsed = max(0, nowMillis - lastMillis)
        tokens = min(capacity, tokens + Double(elapsed) * perSecond / 1000)
        lastMillis = max(lastMillis, nowMillis)
    }

    /// Takes `amount` if the bucket holds it.
    public mutating func take(_ amount: Double, nowMillis: Int64) -> Bool {
        refill(nowMillis)
        guard tokens >= amount else { return false }
        tokens -= amount
        return true
    }

    /// Whether anything is left (a debt from an earlier debit must be paid off first).
    public mutating func hasTokens(nowMillis: Int64) -> Bool {
        refill(nowMillis)
        return tokens > 0
    }

    /// What the bucket holds at `nowMillis` (negative while a debt is being paid off).
    public mutating func available(nowMillis: Int64) -> Double {
        refill(nowMillis)
        return tokens
    }

    /// How long from `nowMillis` until the bucket holds more than nothing again: 0 when it already does.
    public mutating func millisUntilTokens(nowMillis: Int64) -> Int64 {
        refill(nowMillis)
        guard tokens <= 0, perSecond > 0 else { return 0 }
        // One millisecond past the instant the debt is paid, so the bucket then holds a positive amount.
        return Int64((-tokens * 1000 / perSecond).rounded(.down)) + 1
    }

    /// Charges `amount` after the fact; the bucket may go into debt.
    public mutating func debit(_ amount: Double, nowMillis: Int64) {
        refill(nowMillis)
        tokens -= amount
    }
}

/// A shard's limits (KINESIS-SEMANTICS §5.1): writes 1 MiB/s and 1,000 records/s; reads 5 GetRecords calls/s and
/// 2 MiB/s, charged after the read so a 10 MiB reply throttles the next ~5 s. Each bucket holds one second.
public struct ShardThroughput: Sendable, Equatable {
    public static let writeBytesPerSecond = Double(1 << 20)
    public static let writeRecordsPerSecond = 1000.0
    public static let readCallsPerSecond = 5.0
    public static let readBytesPerSecond = Double(2 << 20)
    /// How recent the shard's newest record must be for a new leader to assume its predecessor was still
    /// spending the shard's allowance when it went away (`takingOver`). A failover takes a few seconds.
    public static let takeoverWindowMillis: Int64 = 10_000

    private var writeBytes: TokenBucket
    private var writeRecords: TokenBucket
    private var readCalls: TokenBucket
    private var readBytes: TokenBucket

    /// Every bucket full: a shard nobody has used within the last second.
    public init(nowMillis: Int64) {
        self.init(nowMillis: nowMillis, fill: 1)
    }

    private init(nowMillis: Int64, fill: Double) {
        func bucket(_ perSecond: Double) -> TokenBucket {
            TokenBucket(capacity: perSecond, perSecond: perSecond, nowMillis: nowMillis, tokens: perSecond * fill)
        }
        writeBytes = bucket(Self.writeBytesPerSecond)
        writeRecords = bucket(Self.writeRecordsPerSecond)
        readCalls = bucket(Self.readCallsPerSecond)
        readBytes = bucket(Self.readBytesPerSecond)
    }

    /// The buckets a new leader starts with. The old leader's buckets died with it, and the seconds the
    /// election took would have refilled them: starting full would let a client that was held at the limit
    /// write a second's allowance at once plus the refill, twice the limit in the first second. So when the
    /// shard was written within `takeoverWindowMillis` before `nowMillis`, the new leader starts its write
    /// buckets as if the last second had been used in full (empty, refilling at the limit from now); a shard
    /// idle that long, or never written, starts full, as its old leader's buckets would be. The read buckets
    /// start full either way: a reader gains at most one second's five calls, and a reader that resumes after
    /// a restart should not have its first call refused.
    public static func takingOver(nowMillis: Int64, newestRecordMillis: Int64?) -> ShardThroughput {
        var buckets = ShardThroughput(nowMillis: nowMillis)
        guard let newest = newestRecordMillis, nowMillis - newest < takeoverWindowMillis else { return buckets }
        let spent = ShardThroughput(nowMillis: nowMillis, fill: 0)
        buckets.writeBytes = spent.writeBytes
        buckets.writeRecords = spent.writeRecords
        return buckets
    }

    /// Admits one record of `bytes` (data plus partition key) or refuses it without charging anything.
    public mutating func admitWrite(bytes: Int, nowMillis: Int64) -> Bool {
        var records = writeRecords
        var volume = writeBytes
        // A record larger than a second's allowance is admitted from a full bucket (large records "burst").
        let cost = min(Double(bytes), volume.capacity)
        guard records.take(1, nowMillis: nowMillis), volume.take(cost, nowMillis: nowMillis) else { return false }
        writeRecords = records
        writeBytes = volume
        return true
    }

    /// Admits records of `sizes` bytes each in order, each alone: a refused record charges nothing and a later,
    /// smaller one may still fit. One verdict per record.
    public mutating func admitWrites(sizes: [Int], nowMillis: Int64) -> [Bool] {
        sizes.map { admitWrite(bytes: $0, nowMillis: nowMillis) }
    }

    /// Admits every record of `sizes` or none (a batch that must be appended whole): nothing is charged unless
    /// all of them fit.
    public mutating func admitAll(sizes: [Int], nowMillis: Int64) -> Bool {
        var trial = self
        for size in sizes where !trial.admitWrite(bytes: size, nowMillis: nowMillis) { return false }
        self = trial
        return true
    }

    /// Admits one GetRecords call, or refuses it while the call rate or an earlier read's bytes are over.
    public mutating func admitRead(nowMillis: Int64) -> Bool {
        guard readBytes.hasTokens(nowMillis: nowMillis) else { return false }
        return readCalls.take(1, nowMillis: nowMillis)
    }

    /// Charges what a read returned.
    public mutating func chargeRead(bytes: Int, nowMillis: Int64) {
        readBytes.debit(Double(bytes), nowMillis: nowMillis)
    }
}
