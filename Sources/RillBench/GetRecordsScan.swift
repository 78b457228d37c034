import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the read phase needs from a GetRecords reply.
struct GetRecordsSummary: Sendable, Equatable {
    /// Decoded data bytes of each record, in order.
    var recordSizes: [Int] = []
    var nextShardIterator: String?
    var millisBehindLatest: Int?
}

/// Reads a GetRecords reply without building it: one pass over the bytes that walks the JSON
/// structure, measures each `Data` string and copies out only `NextShardIterator`.
///
/// A 10,000-record reply is ~14 MB; `JSONParser` makes a validated `String` for every member of every
/// record, which at 100,000 records/s would take a good part of one of the machine's two cores from
/// the server being measured. Strings are skipped with `memchr`. Anything unexpected (an escaped
/// key or iterator, malformed JSON) returns nil and the caller falls back to `JSONParser`.
enum GetRecordsScan {
    static func summary(of body: ByteBuffer) -> GetRecordsSummary? {
        body.withUnsafeReadableBytes { raw in
            guard let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
            var scanner = Scanner(start: base, count: raw.count)
            return scanner.reply()
        }
    }
}

private struct Scanner {
    let start: UnsafePointer<UInt8>
    let count: Int
    var offset = 0

    init(start: UnsafePointer<UInt8>, count: Int) {
        self.start = start
        self.count = count
    }

    /// Replies are flat (object → Records array → record objects → scalars); anything deeper is skipped
    /// generically, and this bounds the recursion of that skip on hostile input.
    static let maxDepth = 64

    var current: UInt8? { offset < count ? start[offset] : nil }

    mutating func skipWhitespace() {
        while offset < count {
            switch start[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard current == byte else { return false }
        offset += 1
        return true
    }

    /// The top-level object: `Records`, `NextShardIterator` and `MillisBehindLatest` are read, the rest skipped.
    mutating func reply() -> GetRecordsSummary? {
        var summary = GetRecordsSummary()
        let ok = members { scanner, key in
            if scanner.keyEquals(key, "Records") {
                return scanner.records(into: &summary.recordSizes)
            } else if scanner.keyEquals(key, "NextShardIterator") {
                scanner.skipWhitespace()
                if scanner.current == UInt8(ascii: "n") { return scanner.skipValue(depth: 1) }
                guard let text = scanner.plainString() else { return false }
                summary.nextShardIterator = text
                return true
            } else if scanner.keyEquals(key, "MillisBehindLatest") {
                guard let millis = scanner.integer() else { return false }
                summary.millisBehindLatest = millis
                return true
            }
            return scanner.skipValue(depth: 1)
        }
        guard ok else { return nil }
        skipWhitespace()
        return offset == count ? summary : nil
    }

    /// `[ {…}, … ]`, appending each record's decoded `Data` length.
    mutating func records(into sizes: inout [Int]) -> Bool {
        guard consume(UInt8(ascii: "[")) else { return false }
        if consume(UInt8(ascii: "]")) { return true }
        repeat {
            var size = 0
            let ok = members { scanner, key in
                guard scanner.keyEquals(key, "Data") else { return scanner.skipValue(depth: 3) }
                guard let length = scanner.base64DecodedLength() else { return false }
                size = length
                return true
            }
            guard ok else { return false }
            sizes.append(size)
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "]"))
    }

    /// Walks `{ "key": value, … }`, handing each key's byte range to `body`, which must consume the value.
    mutating func members(_ body: (inout Scanner, Range<Int>) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        if consume(UInt8(ascii: "}")) { return true }
        repeat {
            skipWhitespace()
            // An escaped key could spell a member we look for; leave those to the strict parser.
            guard let key = stringRange(), !key.escaped, consume(UInt8(ascii: ":")) else { return false }
            skipWhitespace()
            guard body(&self, key.range) else { return false }
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "}"))
    }

    func keyEquals(_ range: Range<Int>, _ name: StaticString) -> Bool {
        range.count == name.utf8CodeUnitCount && memcmp(start + range.lowerBound, name.utf8Start, range.count) == 0
    }

    /// At an opening quote: skips the string, returning its contents' range and whether it holds escapes.
    mutating func stringRange() -> (range: Range<Int>, escaped: Bool)? {
        guard current == UInt8(ascii: "\"") else { return nil }
        let contentStart = offset + 1
        var searchFrom = contentStart
        var escaped = false
        while searchFrom < count {
            guard let found = memchr(start + searchFrom, Int32(UInt8(ascii: "\"")), count - searchFrom) else {
                return nil
            }
            let quote = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - start
            // The quote ends the string unless an odd run of backslashes escapes it.
            var backslashes = 0
            while quote - backslashes - 1 >= contentStart && start[quote - backslashes - 1] == UInt8(ascii: "\\") {
                backslashes += 1
            }
            if backslashes > 0 { escaped = true }
            if backslashes % 2 == 0 {
                if !escaped, memchr(start + contentStart, Int32(UInt8(ascii: "\\")), quote - contentStart) != nil {
                    escaped = true
                }
                offset = quote + 1
                return (contentStart..<quote, escaped)
            }
            searchFrom = quote + 1
        }
        return nil
    }

    /// A string without escapes, copied out; nil (so the caller falls back) if it has any.
    mutating func plainString() -> String? {
        guard let string = stringRange(), !string.escaped else { return nil }
        return String(
            decoding: UnsafeBufferPointer(start: start + string.range.lowerBound, count: string.range.count),
            as: UTF8.self
        )
    }

    /// Bytes a padded base64 string decodes to. Base64 never needs escapes; an escaped one (`\/`) falls back.
    mutating func base64DecodedLength() -> Int? {
        guard let string = stringRange(), !string.escaped else { return nil }
        let length = string.range.count
        guard length % 4 == 0 else { return nil }
        guard length > 0 else { return 0 }
        var padding = 0
        if start[string.range.upperBound - 1] == UInt8(ascii: "=") { padding += 1 }
        if start[string.range.upperBound - 2] == UInt8(ascii: "=") { padding += 1 }
        return length / 4 * 3 - padding
    }

    /// A non-negative integer (MillisBehindLatest); fractions or exponents fall back.
    mutating func integer() -> Int? {
        var value = 0
        let first = offset
        while let byte = current, byte >= 0x30, byte <= 0x39 {
            let (scaled, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = scaled + Int(byte - 0x30)
            offset += 1
        }
        guard offset > first else { return nil }
        if let next = current, next == UInt8(ascii: ".") || next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
            return nil
        }
        return value
    }

    /// Skips any value; numbers and literals loosely (the fallback parser is strict if it matters).
    mutating func skipValue(depth: Int) -> Bool {
        guard depth < Self.maxDepth else { return false }
        skipWhitespace()
        guard let byte = current else { return false }
        switch byte {
        case UInt8(ascii: "\""):
            return stringRange() != nil
        case UInt8(ascii: "{"):
            return members { scanner, _ in scanner.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            offset += 1
            if consume(UInt8(ascii: "]")) { return true }
            repeat {
                guard skipValue(depth: depth + 1) else { return false }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "]"))
        default:
            let first = offset
            while let next = current {
                switch next {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "E"):
                    offset += 1
                    continue
                default:
                    break
                }
                break
            }
            return offset > first
        }
    }
}
