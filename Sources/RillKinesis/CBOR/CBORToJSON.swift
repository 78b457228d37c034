/// Turns a CBOR request body into the AWS JSON 1.1 body that means the same, so every operation, the
/// router's PutRecords split and peer forwarding read CBOR requests through the one JSON path.
///
/// Mapping (Java SDK v2 `AwsCborProtocolFactory` conventions; see docs/api-compatibility.md):
/// - byte strings become padded base64 text, and are accepted only for a blob member (`Data`);
///   text under a blob member passes through as base64, as Jackson's `getBinaryValue` reads it;
/// - in a timestamp member an integer is epoch *milliseconds* (what the SDK writes after tag 1) and a float
///   is epoch seconds (RFC 8949 §3.4.2, what Smithy's rpcv2Cbor clients write); both become JSON seconds;
/// - tags are otherwise ignored (tag 55799 "self-described CBOR" included), as Jackson ignores them;
/// - null and undefined become `null` (an absent member); maps need text keys; NaN and infinities, other
///   simple values and anything malformed are refused.
public enum CBORToJSON {
    public static func transcode(_ cbor: [UInt8]) throws(CBORFailure) -> [UInt8] {
        if cbor.isEmpty { return [] }  // the JSON path answers an empty body with its own message
        return try cbor.withUnsafeBufferPointer { (buffer) throws(CBORFailure) -> [UInt8] in
            var cursor = CBORCursor(buffer)
            // Base64 grows blobs by a third; the rest is about the same size.
            var out: [UInt8] = []
            out.reserveCapacity(buffer.count + buffer.count / 2 + 16)
            try value(&cursor, &out, .plain, depth: 0)
            guard cursor.isAtEnd else { throw cursor.failure("trailing bytes after the data item") }
            return out
        }
    }

    private static func value(
        _ cursor: inout CBORCursor,
        _ out: inout [UInt8],
        _ kind: KinesisMemberKind,
        depth: Int
    ) throws(CBORFailure) {
        guard depth < CBORCursor.maxDepth else { throw cursor.failure("nesting too deep") }
        let start = cursor.offset
        let head = try cursor.readHead()
        switch head.major {
        case 0:
            if kind == .timestamp {
                guard head.argument <= UInt64(Int64.max) else {
                    throw cursor.failure("timestamp out of range", at: start)
                }
                appendSeconds(millis: Int64(head.argument), to: &out)
            } else {
                out.append(contentsOf: String(head.argument).utf8)
            }
        case 1:
            if kind == .timestamp {
                guard head.argument < UInt64(Int64.max) else {
                    throw cursor.failure("timestamp out of range", at: start)
                }
                appendSeconds(millis: -1 - Int64(head.argument), to: &out)
            } else {
                // -1 - n, written without overflowing for n = UInt64.max.
                out.append(UInt8(ascii: "-"))
                out.append(
                    contentsOf: (head.argument == .max ? "18446744073709551616" : String(head.argument + 1)).utf8
                )
            }
        case 2:
            guard kind == .blob else {
                throw cursor.failure("a byte string is only accepted for a Blob member (Data)", at: start)
            }
            out.append(UInt8(ascii: "\""))
            if head.isIndefinite {
                var joined: [UInt8] = []
                try cursor.stringPayload(head) { joined.append(contentsOf: $0) }
                joined.withUnsafeBytes { Base64.encode($0, into: &out) }
            } else {
                try cursor.stringPayload(head) { Base64.encode(UnsafeRawBufferPointer($0), into: &out) }
            }
            out.append(UInt8(ascii: "\""))
        case 3:
            out.append(UInt8(ascii: "\""))
            try cursor.stringPayload(head) { appendEscaped($0, to: &out) }
            out.append(UInt8(ascii: "\""))
        case 4:
            out.append(UInt8(ascii: "["))
            var count = 0
            try forEachEntry(head, &cursor, itemsPerEntry: 1) { (cursor) throws(CBORFailure) in
                if count > 0 { out.append(UInt8(ascii: ",")) }
                count += 1
                try value(&cursor, &out, .plain, depth: depth + 1)
            }
            out.append(UInt8(ascii: "]"))
        case 5:
            out.append(UInt8(ascii: "{"))
            var count = 0
            try forEachEntry(head, &cursor, itemsPerEntry: 2) { (cursor) throws(CBORFailure) in
                if count > 0 { out.append(UInt8(ascii: ",")) }
                count += 1
                let memberKind = try key(&cursor, &out, inTagMap: kind == .tagMap)
                out.append(UInt8(ascii: ":"))
                try value(&cursor, &out, memberKind, depth: depth + 1)
            }
            out.append(UInt8(ascii: "}"))
        case 6:
            try value(&cursor, &out, kind, depth: depth + 1)
        default:
            try simple(head, &cursor, &out, kind, start)
        }
    }

    /// Calls `body` once per entry of a definite or indefinite array or map.
    private static func forEachEntry(
        _ head: CBORCursor.Head,
        _ cursor: inout CBORCursor,
        itemsPerEntry: UInt64,
        _ body: (inout CBORCursor) throws(CBORFailure) -> Void
    ) throws(CBORFailure) {
        if head.isIndefinite {
            while try !cursor.consumeBreak() { try body(&cursor) }
        } else {
            try cursor.checkCount(head.argument, itemsPerEntry: itemsPerEntry)
            for _ in 0..<head.argument { try body(&cursor) }
        }
    }

    /// Writes a map key (which must be a text string) and returns the kind of member it names.
    private static func key(
        _ cursor: inout CBORCursor,
        _ out: inout [UInt8],
        inTagMap: Bool
    ) throws(CBORFailure) -> KinesisMemberKind {
        let start = cursor.offset
        let head = try cursor.readHead()
        guard head.major == 3 else { throw cursor.failure("a map key is not a text string", at: start) }
        out.append(UInt8(ascii: "\""))
        var kind = KinesisMemberKind.plain
        if head.isIndefinite {
            var name: [UInt8] = []
            try cursor.stringPayload(head) { name.append(contentsOf: $0) }
            name.withUnsafeBufferPointer { appendEscaped($0, to: &out) }
            if !inTagMap { kind = name.withUnsafeBufferPointer { KinesisMemberKind.of($0) } }
        } else {
            // The common case, every key Jackson writes: classify the slice in place, allocating nothing.
            try cursor.stringPayload(head) { slice in
                appendEscaped(slice, to: &out)
                if !inTagMap { kind = KinesisMemberKind.of(slice) }
            }
        }
        out.append(UInt8(ascii: "\""))
        return kind
    }

    private static func simple(
        _ head: CBORCursor.Head,
        _ cursor: inout CBORCursor,
        _ out: inout [UInt8],
        _ kind: KinesisMemberKind,
        _ start: Int
    ) throws(CBORFailure) {
        switch head.info {
        case 20: out.append(contentsOf: "false".utf8)
        case 21: out.append(contentsOf: "true".utf8)
        case 22, 23: out.append(contentsOf: "null".utf8)
        case 25, 26, 27:
            let number = CBORCursor.float(head)
            guard number.isFinite else {
                throw cursor.failure("NaN and infinity have no meaning in a request", at: start)
            }
            // In a timestamp member a float is seconds already, which is what JSON carries.
            out.append(contentsOf: "\(number)".utf8)
        case 31: throw cursor.failure("\"break\" outside an indefinite-length item", at: start)
        default: throw cursor.failure("simple value \(head.argument) is not accepted", at: start)
        }
    }

    /// Epoch milliseconds as JSON epoch seconds with three decimals, as `JSONWriter.timestamp` writes them.
    static func appendSeconds(millis: Int64, to out: inout [UInt8]) {
        if millis < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = millis.magnitude
        out.append(contentsOf: String(magnitude / 1000).utf8)
        out.append(UInt8(ascii: "."))
        let fraction = magnitude % 1000
        out.append(UInt8(truncatingIfNeeded: 0x30 + fraction / 100))
        out.append(UInt8(truncatingIfNeeded: 0x30 + fraction / 10 % 10))
        out.append(UInt8(truncatingIfNeeded: 0x30 + fraction % 10))
    }

    /// Appends UTF-8 text with JSON's required escapes (RFC 8259 §7).
    static func appendEscaped(_ text: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        if !text.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: text)
            return
        }
        let hex = Array("0123456789abcdef".utf8)
        for byte in text {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0..<0x20:
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
    }
}
