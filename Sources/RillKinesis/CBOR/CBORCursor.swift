/// Reads CBOR item heads (RFC 8949 §3) from a buffer; shared by the tree decoder, the transcoders and
/// tools that walk a reply without building it (`rill bench`).
///
/// Every length is checked against the bytes that remain before anything is allocated or sliced, so a
/// hostile head such as `0x5b ff ff ff ff ff ff ff ff` costs a thrown error, not an allocation.
public struct CBORCursor {
    /// The head of one data item: major type, additional information and the argument it encodes.
    public struct Head: Sendable {
        public var major: UInt8
        /// The low five bits; 31 means indefinite length (or "break" in major type 7).
        public var info: UInt8
        /// The count, length, integer value, tag number, or raw float bits.
        public var argument: UInt64
        public var isIndefinite: Bool { info == 31 }
    }

    /// Nesting deeper than this is refused, as the JSON parser does, so hostile input cannot exhaust the stack.
    static let maxDepth = 64

    let bytes: UnsafeBufferPointer<UInt8>
    /// Where the next head starts.
    public internal(set) var offset = 0

    public init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset >= bytes.count }

    public func failure(_ reason: String, at offset: Int? = nil) -> CBORFailure {
        CBORFailure(offset: offset ?? self.offset, reason: reason)
    }

    /// The next byte without consuming it.
    func peek() throws(CBORFailure) -> UInt8 {
        guard offset < bytes.count else { throw failure("unexpected end of input") }
        return bytes[offset]
    }

    /// Reads one head. Reserved additional information (28–30) and an indefinite length where none is
    /// allowed (major types 0, 1 and 6) are malformed (RFC 8949 §3.2.4).
    public mutating func readHead() throws(CBORFailure) -> Head {
        let start = offset
        let initial = try peek()
        offset += 1
        let major = initial >> 5
        let info = initial & 0x1F
        let argument: UInt64
        switch info {
        case 0..<24: argument = UInt64(info)
        case 24: argument = try readUInt(1)
        case 25: argument = try readUInt(2)
        case 26: argument = try readUInt(4)
        case 27: argument = try readUInt(8)
        case 31:
            guard major >= 2, major != 6 else {
                throw failure("indefinite length not allowed for major type \(major)", at: start)
            }
            argument = 0
        default: throw failure("reserved additional information \(info)", at: start)
        }
        return Head(major: major, info: info, argument: argument)
    }

    private mutating func readUInt(_ count: Int) throws(CBORFailure) -> UInt64 {
        guard remaining >= count else { throw failure("unexpected end of input") }
        var value: UInt64 = 0
        for i in 0..<count { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += count
        return value
    }

    /// Consumes `length` bytes of string payload; a length past the end of the input is refused first.
    mutating func take(_ length: UInt64) throws(CBORFailure) -> UnsafeBufferPointer<UInt8> {
        guard length <= UInt64(remaining) else { throw failure("length \(length) runs past the end of the input") }
        let count = Int(length)
        let slice = UnsafeBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return slice
    }

    /// Checks that a definite container of `count` items (each at least one byte) can fit in what remains.
    func checkCount(_ count: UInt64, itemsPerEntry: UInt64) throws(CBORFailure) {
        let (needed, overflow) = count.multipliedReportingOverflow(by: itemsPerEntry)
        guard !overflow, needed <= UInt64(remaining) else { throw failure("\(count) entries cannot fit in the input") }
    }

    /// Whether the next byte is the "break" stop code (0xff) ending an indefinite item; consumes it if so.
    public mutating func consumeBreak() throws(CBORFailure) -> Bool {
        guard try peek() == 0xFF else { return false }
        offset += 1
        return true
    }

    /// The payload of a byte or text string whose head was just read: a slice of the input for a definite
    /// string, or the chunks of an indefinite one joined (each chunk must be a definite string of the same
    /// major type, RFC 8949 §3.2.3). Text is validated as UTF-8 chunk by chunk.
    public mutating func stringPayload(_ head: Head, _ body: (UnsafeBufferPointer<UInt8>) -> Void) throws(CBORFailure) {
        guard head.isIndefinite else {
            let start = offset
            let slice = try take(head.argument)
            if head.major == 3, !Self.isValidUTF8(slice) { throw failure("text string is not valid UTF-8", at: start) }
            body(slice)
            return
        }
        while try !consumeBreak() {
            let chunkStart = offset
            let chunk = try readHead()
            guard chunk.major == head.major, !chunk.isIndefinite else {
                throw failure(
                    "an indefinite-length string holds a chunk that is not a definite string of its type",
                    at: chunkStart
                )
            }
            let slice = try take(chunk.argument)
            if head.major == 3, !Self.isValidUTF8(slice) {
                throw failure("text string is not valid UTF-8", at: chunkStart)
            }
            body(slice)
        }
    }

    /// A text string's value as a Swift string (definite or chunked).
    public mutating func text(_ head: Head) throws(CBORFailure) -> String {
        var result = ""
        try stringPayload(head) { slice in result += String(decoding: slice, as: UTF8.self) }
        return result
    }

    /// Whether a container whose head was just read has another entry: for a definite one, counts
    /// `remaining` down; for an indefinite one, consumes the "break" that ends it.
    public mutating func hasMore(_ head: Head, remaining: inout UInt64) throws(CBORFailure) -> Bool {
        if head.isIndefinite { return try !consumeBreak() }
        guard remaining > 0 else { return false }
        remaining -= 1
        return true
    }

    /// Skips one whole data item, nested ones included, without building it.
    public mutating func skipItem(depth: Int = 0) throws(CBORFailure) {
        guard depth < Self.maxDepth else { throw failure("nesting too deep") }
        let head = try readHead()
        switch head.major {
        case 2, 3: try stringPayload(head) { _ in }
        case 4, 5:
            if !head.isIndefinite { try checkCount(head.argument, itemsPerEntry: head.major == 5 ? 2 : 1) }
            var remaining = head.argument
            while try hasMore(head, remaining: &remaining) {
                try skipItem(depth: depth + 1)
                if head.major == 5 { try skipItem(depth: depth + 1) }
            }
        case 6: try skipItem(depth: depth + 1)
        case 7 where head.info == 31: throw failure("\"break\" outside an indefinite-length item")
        default: break
        }
    }

    static func isValidUTF8(_ slice: UnsafeBufferPointer<UInt8>) -> Bool {
        // ASCII is the common case (names, ids, partition keys); skip the validating decoder for it.
        if !slice.contains(where: { $0 >= 0x80 }) { return true }
        return String(validating: slice, as: UTF8.self) != nil
    }

    /// An IEEE 754 half-precision value widened to Double (RFC 8949 Appendix D).
    static func halfToDouble(_ bits: UInt16) -> Double {
        let exponent = Int(bits >> 10 & 0x1F)
        let mantissa = Double(bits & 0x3FF)
        let magnitude: Double
        switch exponent {
        case 0: magnitude = Double(sign: .plus, exponent: -24, significand: mantissa)
        case 31: magnitude = mantissa == 0 ? .infinity : .nan
        default: magnitude = Double(sign: .plus, exponent: exponent - 25, significand: mantissa + 1024)
        }
        return bits & 0x8000 != 0 ? -magnitude : magnitude
    }

    /// The value of a major type 7 float head (info 25, 26 or 27).
    static func float(_ head: Head) -> Double {
        switch head.info {
        case 25: halfToDouble(UInt16(truncatingIfNeeded: head.argument))
        case 26: Double(Float(bitPattern: UInt32(truncatingIfNeeded: head.argument)))
        default: Double(bitPattern: head.argument)
        }
    }
}
