/// Turns an AWS JSON 1.1 response body, as the node wrote it, into the CBOR 1.1 body a CBOR client
/// expects: blobs (`Data`) become byte strings and timestamps become tag 1 with integer epoch
/// milliseconds, what the AWS SDK for Java v2 reads (it parses tag-1 floats wrongly, aws-sdk-java-v2#4661).
///
/// One pass over the bytes with no intermediate tree: a GetRecords reply of 10,000 records is walked once
/// and written once. Maps and arrays get definite lengths (`CBORWriter` patches them at the end). An empty
/// body (operations without output) stays empty.
public enum JSONToCBOR {
    public static func transcode(_ json: [UInt8]) throws(CBORFailure) -> [UInt8] {
        if json.isEmpty { return [] }
        return try json.withUnsafeBufferPointer { (buffer) throws(CBORFailure) -> [UInt8] in
            var walker = Walker(bytes: buffer, writer: CBORWriter(capacity: buffer.count))
            walker.skipSpace()
            try walker.value(.plain, depth: 0)
            walker.skipSpace()
            guard walker.offset == buffer.count else { throw walker.failure("trailing characters after the document") }
            return walker.writer.bytes
        }
    }
}

private struct Walker {
    let bytes: UnsafeBufferPointer<UInt8>
    var writer: CBORWriter
    var offset = 0

    func failure(_ reason: String) -> CBORFailure { CBORFailure(offset: offset, reason: reason) }

    var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func skipSpace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { offset += 1 }
    }

    mutating func value(_ kind: KinesisMemberKind, depth: Int) throws(CBORFailure) {
        guard depth < CBORCursor.maxDepth else { throw failure("nesting too deep") }
        guard let byte = current else { throw failure("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"): try object(kind, depth: depth)
        case UInt8(ascii: "["): try array(depth: depth)
        case UInt8(ascii: "\""):
            let (range, escaped) = try stringRange()
            let slice = UnsafeBufferPointer(rebasing: bytes[range])
            if kind == .blob, !escaped {
                guard let data = try? Base64.decode(utf8: slice) else { throw failure("a blob is not valid base64") }
                writer.bytes(data)
            } else if escaped {
                writer.text(try unescape(range))
            } else {
                writer.text(utf8: slice)
            }
        case UInt8(ascii: "t"):
            try literal("true")
            writer.bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            writer.bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            writer.null()
        default: try number(kind)
        }
    }

    mutating func object(_ kind: KinesisMemberKind, depth: Int) throws(CBORFailure) {
        offset += 1
        writer.beginMap()
        skipSpace()
        if current == UInt8(ascii: "}") {
            offset += 1
            writer.endMap()
            return
        }
        while true {
            skipSpace()
            guard current == UInt8(ascii: "\"") else { throw failure("expected a member name") }
            let (range, escaped) = try stringRange()
            let slice = UnsafeBufferPointer(rebasing: bytes[range])
            if escaped { writer.text(try unescape(range)) } else { writer.text(utf8: slice) }
            let member = kind == .tagMap || escaped ? KinesisMemberKind.plain : KinesisMemberKind.of(slice)
            skipSpace()
            guard current == UInt8(ascii: ":") else { throw failure("expected ':'") }
            offset += 1
            skipSpace()
            try value(member, depth: depth + 1)
            skipSpace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                writer.endMap()
                return
            default: throw failure("expected ',' or '}'")
            }
        }
    }

    mutating func array(depth: Int) throws(CBORFailure) {
        offset += 1
        writer.beginArray()
        skipSpace()
        if current == UInt8(ascii: "]") {
            offset += 1
            writer.endArray()
            return
        }
        while true {
            skipSpace()
            try value(.plain, depth: depth + 1)
            skipSpace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                writer.endArray()
                return
            default: throw failure("expected ',' or ']'")
            }
        }
    }

    /// The bytes between the quotes of the string at `offset`, and whether they hold an escape.
    mutating func stringRange() throws(CBORFailure) -> (Range<Int>, escaped: Bool) {
        let start = offset + 1
        var index = start
        var escaped = false
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                offset = index + 1
                return (start..<index, escaped)
            case UInt8(ascii: "\\"):
                escaped = true
                index += 2
            default: index += 1
            }
        }
        throw failure("unterminated string")
    }

    /// Decodes an escaped string through the full parser, which knows every escape and surrogate rule.
    func unescape(_ range: Range<Int>) throws(CBORFailure) -> String {
        let quoted = Array(bytes[(range.lowerBound - 1)...range.upperBound])
        guard case .string(let text)? = try? JSONParser.parse(quoted) else { throw failure("invalid string") }
        return text
    }

    mutating func literal(_ text: StaticString) throws(CBORFailure) {
        let count = text.utf8CodeUnitCount
        guard offset + count <= bytes.count,
            UnsafeBufferPointer(rebasing: bytes[offset..<(offset + count)]).elementsEqual(
                UnsafeBufferPointer(start: text.utf8Start, count: count)
            )
        else { throw failure("invalid literal") }
        offset += count
    }

    mutating func number(_ kind: KinesisMemberKind) throws(CBORFailure) {
        let start = offset
        while let byte = current,
            byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") || (0x30...0x39).contains(byte)
        {
            offset += 1
        }
        guard offset > start else { throw failure("unexpected character") }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        if kind == .timestamp {
            guard let millis = Self.millis(fromSeconds: text) else { throw failure("a timestamp is out of range") }
            writer.timestamp(millis: millis)
        } else if let integer = Int64(text) {
            writer.int(integer)
        } else if let unsigned = UInt64(text) {
            writer.unsigned(unsigned)
        } else if let double = Double(text) {
            writer.double(double)
        } else {
            throw failure("invalid number")
        }
    }

    /// Epoch seconds as JSON writes them (`1700000000.123`) to integer milliseconds, exactly when the text has
    /// at most three decimals (always, for what the node writes); through Double otherwise.
    static func millis(fromSeconds text: String) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, let whole = Int64(parts[0]), parts[1].count <= 3,
            let fraction = Int64(parts[1].padding(toLength: 3))
        {
            let (scaled, overflow) = whole.multipliedReportingOverflow(by: 1000)
            guard !overflow else { return nil }
            return text.hasPrefix("-") ? scaled - fraction : scaled + fraction
        }
        guard let seconds = Double(text), seconds.isFinite, abs(seconds) < 9.2e15 else { return nil }
        return Int64((seconds * 1000).rounded(.down))
    }
}

extension Substring {
    /// Right-pads with zeros to `length` characters ("1" → "100"), for a fraction of a second.
    fileprivate func padding(toLength length: Int) -> String {
        String(self) + String(repeating: "0", count: Swift.max(0, length - count))
    }
}
