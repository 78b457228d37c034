/// A token bucket over wall-clock milliseconds passed in by the caller (no clock inside).
public struct TokenBucket: Sendable, Equatable {
    public let capacity: Double
    public let perSecond: Double
    public private(set) var tokens: Double
    private var lastMillis: Int64

    public init(capacity: Double, perSecond: Double, nowMillis: Int64) {
        self.capacity = capacity
        self.perSecond = perSecond
        self.tokens = capacity
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

    /// Charges `amount` after the fact; the bucket may go into debt.
    public mutating func debit(_ amount: Double, nowMillis: Int64) {
        refill(nowMillis)
        tokens -= amount
    }
}

/// A provisioned shard's limits (KINESIS-SEMANTICS §5.1): writes 1 MiB/s and 1,000 records/s; reads
/// 5 GetRecords calls/s and 2 MiB/s, charged after the read so a 10 MiB reply throttles the next ~5 s.
public struct ShardThroughput: Sendable, Equatable {
    public static let writeBytesPerSecond = Double(1 << 20)
    public static let writeRecordsPerSecond = 1000.0
    public static let readCallsPerSecond = 5.0
    public static let readBytesPerSecond = Double(2 << 20)

    private var writeBytes: TokenBucket
    private var writeRecords: TokenBucket
    private var readCalls: TokenBucket
    private var readBytes: TokenBucket

    public init(nowMillis: Int64) {
        writeBytes = TokenBucket(
            capacity: Self.writeBytesPerSecond,
            perSecond: Self.writeBytesPerSecond,
            nowMillis: nowMillis
        )
        writeRecords = TokenBucket(
            capacity: Self.writeRecordsPerSecond,
            perSecond: Self.writeRecordsPerSecond,
            nowMillis: nowMillis
        )
        readCalls = TokenBucket(
            capacity: Self.readCallsPerSecond,
            perSecond: Self.readCallsPerSecond,
            nowMillis: nowMillis
        )
        readBytes = TokenBucket(
            capacity: Self.readBytesPerSecond,
            perSecond: Self.readBytesPerSecond,
            nowMillis: nowMillis
        )
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
