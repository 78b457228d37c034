/// A point in the Kinesis hash space `[0, 2^128 - 1]`, written on the wire as a decimal string.
public struct HashKey: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt128
    public init(rawValue: UInt128) { self.rawValue = rawValue }
    public init(_ value: UInt128) { self.rawValue = value }
    public static let min = HashKey(0)
    public static let max = HashKey(UInt128.max)
    public static func < (lhs: HashKey, rhs: HashKey) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }

    /// The key Kinesis routes a partition key to: MD5 of its UTF-8 bytes, read big-endian.
    public init(partitionKey: String) {
        var key = partitionKey
        self = key.withUTF8 { HashKey(digest: MD5.hash(UnsafeRawBufferPointer($0))) }
    }

    /// The same from the key's UTF-8 bytes, as they stand in a request body.
    public init(partitionKeyUTF8 bytes: ArraySlice<UInt8>) {
        self = bytes.withUnsafeBytes { HashKey(digest: MD5.hash($0)) }
    }

    /// The digest's bytes (each state word little-endian, in order) read as one big-endian number.
    private init(digest: (UInt32, UInt32, UInt32, UInt32)) {
        self.rawValue =
            UInt128(digest.0.byteSwapped) << 96 | UInt128(digest.1.byteSwapped) << 64 | UInt128(digest.2.byteSwapped)
            << 32
            | UInt128(digest.3.byteSwapped)
    }

    /// The outcome of parsing an `ExplicitHashKey` or a `NewStartingHashKey`.
    public enum ParseResult: Equatable, Sendable {
        case valid(HashKey)
        /// Decimal digits, but at or above 2^128.
        case outOfRange
        /// Not a decimal integer at all.
        case malformed
    }

    /// Parses a decimal string, telling a number that is too large apart from one that is no number.
    public static func parse(_ text: String) -> ParseResult {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return .malformed }
        var value: UInt128 = 0
        for byte in text.utf8 {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt128(byte - 0x30))
            if o1 || o2 { return .outOfRange }
            value = sum
        }
        return .valid(HashKey(value))
    }
}

/// An inclusive range of hash keys owned by one shard.
public struct HashRange: Hashable, Sendable {
    public var start: HashKey
    public var end: HashKey
    public init(start: HashKey, end: HashKey) {
        precondition(start <= end, "hash range start \(start) above end \(end)")
        self.start = start
        self.end = end
    }
    public func contains(_ key: HashKey) -> Bool { start <= key && key <= end }

    /// The ranges Kinesis gives a new stream of `count` shards: equal widths of floor(2^128 / count),
    /// the last shard absorbing the remainder (KINESIS-SEMANTICS §2.2).
    public static func evenSplit(count: Int) -> [HashRange] {
        precondition(count > 0, "a stream needs at least one shard")
        if count == 1 { return [HashRange(start: .min, end: .max)] }
        // floor(2^128 / n) without representing 2^128: (2^128 - 1) / n, plus one when n divides 2^128 exactly.
        let n = UInt128(count)
        var width = UInt128.max / n
        if UInt128.max % n == n - 1 { width += 1 }
        return (0..<count).map { i in
            let start = UInt128(i) * width
            let end = i == count - 1 ? UInt128.max : UInt128(i + 1) * width - 1
            return HashRange(start: HashKey(start), end: HashKey(end))
        }
    }
}
