#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte ranges of JSON values, found without decoding them: what a router needs to split a PutRecords body by
/// shard and pass each record on byte for byte (decoding and re-encoding a megabyte of base64 per call is
/// most of what a router would otherwise spend its time on).
///
/// Every function returns nil on anything that is not well-formed where it looks; callers then fall back to
/// the full parser, whose errors are the ones clients see.
public enum JSONSlices {
    /// The members of the object at `range`: each key (decoded) and the byte range of its value.
    public static func members(_ bytes: [UInt8], in range: Range<Int>) -> [(key: String, value: Range<Int>)]? {
        var members: [(String, Range<Int>)] = []
        let complete = forEachMember(bytes, in: range) { key, value in
            guard let name = string(bytes, in: key) else { return false }
            members.append((name, value))
            return true
        }
        return complete ? members : nil
    }

    /// Calls `body` with the byte range of each member's key (quotes included, not decoded) and of its value,
    /// in order, allocating nothing: the per-record walk of a PutRecords. False when the object is malformed
    /// or `body` returned false.
    public static func forEachMember(
        _ bytes: [UInt8],
        in range: Range<Int>,
        _ body: (_ key: Range<Int>, _ value: Range<Int>) -> Bool
    ) -> Bool {
        var index = skipSpace(bytes, range.lowerBound, range.upperBound)
        guard index < range.upperBound, bytes[index] == UInt8(ascii: "{") else { return false }
        index = skipSpace(bytes, index + 1, range.upperBound)
        if index < range.upperBound, bytes[index] == UInt8(ascii: "}") { return true }
        while index < range.upperBound {
            guard bytes[index] == UInt8(ascii: "\""), let keyEnd = skipValue(bytes, index, range.upperBound) else {
                return false
            }
            let key = index..<keyEnd
            index = skipSpace(bytes, keyEnd, range.upperBound)
            guard index < range.upperBound, bytes[index] == UInt8(ascii: ":") else { return false }
            let valueStart = skipSpace(bytes, index + 1, range.upperBound)
            guard let valueEnd = skipValue(bytes, valueStart, range.upperBound), body(key, valueStart..<valueEnd) else {
                return false
            }
            index = skipSpace(bytes, valueEnd, range.upperBound)
            guard index < range.upperBound else { return false }
            if bytes[index] == UInt8(ascii: "}") { return true }
            guard bytes[index] == UInt8(ascii: ",") else { return false }
            index = skipSpace(bytes, index + 1, range.upperBound)
        }
        return false
    }

    /// Whether the key at `range` (quotes included) is `name` written without escapes.
    public static func key(_ bytes: [UInt8], at range: Range<Int>, is name: StaticString) -> Bool {
        guard range.count == name.utf8CodeUnitCount + 2 else { return false }
        return name.withUTF8Buffer { name in bytes[(range.lowerBound + 1)..<(range.upperBound - 1)].elementsEqual(name)
        }
    }

    /// The bytes between the quotes of the string at `range`, when it holds no escape: what a partition key
    /// hashes without being decoded. nil for anything else.
    public static func plainString(_ bytes: [UInt8], in range: Range<Int>) -> ArraySlice<UInt8>? {
        guard range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        let inner = bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]
        return inner.contains(UInt8(ascii: "\\")) ? nil : inner
    }

    /// The byte ranges of the elements of the array at `range`.
    public static func elements(_ bytes: [UInt8], in range: Range<Int>) -> [Range<Int>]? {
        var index = skipSpace(bytes, range.lowerBound, range.upperBound)
        guard index < range.upperBound, bytes[index] == UInt8(ascii: "[") else { return nil }
        index = skipSpace(bytes, index + 1, range.upperBound)
        var elements: [Range<Int>] = []
        if index < range.upperBound, bytes[index] == UInt8(ascii: "]") { return elements }
        while index < range.upperBound {
            guard let end = skipValue(bytes, index, range.upperBound) else { return nil }
            elements.append(index..<end)
            index = skipSpace(bytes, end, range.upperBound)
            guard index < range.upperBound else { return nil }
            if bytes[index] == UInt8(ascii: "]") { return elements }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index = skipSpace(bytes, index + 1, range.upperBound)
        }
        return nil
    }

    /// The string at `range` decoded, escapes included; nil when it is not a string.
    public static func string(_ bytes: [UInt8], in range: Range<Int>) -> String? {
        guard range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        let inner = bytes[(range.lowerBound + 1)..<(range.upperBound - 1)]
        // Partition keys rarely hold escapes: decode those through the full parser.
        guard inner.contains(UInt8(ascii: "\\")) else { return String(validating: inner, as: UTF8.self) }
        guard case .string(let text)? = try? JSONParser.parse(Array(bytes[range])) else { return nil }
        return text
    }

    /// Where the value starting at `start` ends (exclusive); nil when it is malformed or runs past `end`.
    static func skipValue(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Int? {
        bytes.withUnsafeBufferPointer { buffer in skipValue(buffer, start, min(end, buffer.count)) }
    }

    private static func skipValue(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        guard start < end else { return nil }
        var index = start
        var depth = 0
        repeat {
            guard index < end else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                guard let close = closingQuote(bytes, after: index, end) else { return nil }
                index = close + 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0 else { return nil }
                depth -= 1
                index += 1
            default:
                if depth == 0 {
                    // A scalar: up to the next delimiter.
                    while index < end, !isDelimiter(bytes[index]) { index += 1 }
                    return index > start ? index : nil
                }
                index += 1
            }
        } while depth > 0
        return index
    }

    /// The quote ending the string whose opening quote is at `open`: found with memchr, since record data is
    /// long base64 with no escapes; a quote after an odd run of backslashes is escaped and skipped.
    private static func closingQuote(_ bytes: UnsafeBufferPointer<UInt8>, after open: Int, _ end: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        var from = open + 1
        while from < end {
            guard let found = memchr(base + from, Int32(UInt8(ascii: "\"")), end - from) else { return nil }
            let quote = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            var backslashes = 0
            while quote - backslashes - 1 > open, bytes[quote - backslashes - 1] == UInt8(ascii: "\\") {
                backslashes += 1
            }
            if backslashes % 2 == 0 { return quote }
            from = quote + 1
        }
        return nil
    }

    static func skipSpace(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Int {
        var index = start
        while index < end {
            let byte = bytes[index]
            guard
                byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
                    || byte == UInt8(ascii: "\t")
            else { break }
            index += 1
        }
        return index
    }

    static func isDelimiter(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: " ")
            || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }
}
