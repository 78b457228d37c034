/// Reads a CBOR request body straight into the `JSONValue` tree `RequestReader` reads, for a node that
/// serves the call itself: blobs stay bytes (`.blob`), so a PutRecords costs no base64 in either
/// direction and no JSON text. Same mapping and same refusals as `CBORToJSON` (which a forwarded call
/// still goes through); a test holds the two to the same answers.
public enum CBORToValue {
    public static func object(_ cbor: [UInt8]) throws(CBORFailure) -> JSONValue {
        try cbor.withUnsafeBufferPointer { (buffer) throws(CBORFailure) -> JSONValue in
            var cursor = CBORCursor(buffer)
            let result = try value(&cursor, .plain, depth: 0)
            guard cursor.isAtEnd else { throw cursor.failure("trailing bytes after the data item") }
            return result
        }
    }

    private static func value(
        _ cursor: inout CBORCursor,
        _ kind: KinesisMemberKind,
        depth: Int
    ) throws(CBORFailure) -> JSONValue {
        guard depth < CBORCursor.maxDepth else { throw cursor.failure("nesting too deep") }
        let start = cursor.offset
        let head = try cursor.readHead()
        switch head.major {
        case 0, 1:
            var text: [UInt8] = []
            if head.major == 0, kind != .timestamp {
                return .number(String(head.argument))
            } else if kind == .timestamp {
                let limit = head.major == 0 ? UInt64(Int64.max) : UInt64(Int64.max) - 1
                guard head.argument <= limit else { throw cursor.failure("timestamp out of range", at: start) }
                CBORToJSON.appendSeconds(
                    millis: head.major == 0 ? Int64(head.argument) : -1 - Int64(head.argument),
                    to: &text
                )
                return .number(String(decoding: text, as: UTF8.self))
            }
            return .number("-" + (head.argument == .max ? "18446744073709551616" : String(head.argument + 1)))
        case 2:
            guard kind == .blob else {
                throw cursor.failure("a byte string is only accepted for a Blob member (Data)", at: start)
            }
            var bytes: [UInt8] = []
            try cursor.stringPayload(head) { bytes.append(contentsOf: $0) }
            return .blob(bytes)
        case 3:
            return .string(try cursor.text(head))
        case 4:
            var items: [JSONValue] = []
            var remaining = head.argument
            if !head.isIndefinite { try cursor.checkCount(head.argument, itemsPerEntry: 1) }
            while try cursor.hasMore(head, remaining: &remaining) {
                items.append(try value(&cursor, .plain, depth: depth + 1))
            }
            return .array(items)
        case 5:
            var members: [(key: String, value: JSONValue)] = []
            var remaining = head.argument
            if !head.isIndefinite { try cursor.checkCount(head.argument, itemsPerEntry: 2) }
            while try cursor.hasMore(head, remaining: &remaining) {
                let keyStart = cursor.offset
                let keyHead = try cursor.readHead()
                guard keyHead.major == 3 else { throw cursor.failure("a map key is not a text string", at: keyStart) }
                let name = try cursor.text(keyHead)
                var member = KinesisMemberKind.plain
                if kind != .tagMap {
                    var utf8 = name
                    member = utf8.withUTF8 { KinesisMemberKind.of($0) }
                }
                members.append((name, try value(&cursor, member, depth: depth + 1)))
            }
            return .object(JSONObject(members))
        case 6:
            return try value(&cursor, kind, depth: depth + 1)
        default:
            switch head.info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22, 23: return .null
            case 25, 26, 27:
                let number = CBORCursor.float(head)
                guard number.isFinite else {
                    throw cursor.failure("NaN and infinity have no meaning in a request", at: start)
                }
                return .number("\(number)")
            case 31: throw cursor.failure("\"break\" outside an indefinite-length item", at: start)
            default: throw cursor.failure("simple value \(head.argument) is not accepted", at: start)
            }
        }
    }
}
