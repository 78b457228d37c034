/// Decodes one CBOR data item (RFC 8949) into a `CBORValue`: every major type, definite and indefinite
/// lengths, integers of any width, half/single/double floats, and tags of any number.
///
/// Malformed input — truncation, reserved heads, stray "break" codes, lengths past the end, nesting deeper
/// than `CBORCursor.maxDepth`, text that is not UTF-8, trailing bytes — throws `CBORFailure` and never traps
/// or allocates more than the input could hold.
public enum CBORDecoder {
    public static func decode(_ bytes: [UInt8]) throws(CBORFailure) -> CBORValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(CBORFailure) -> CBORValue in
            var cursor = CBORCursor(buffer)
            let value = try item(&cursor, depth: 0)
            guard cursor.isAtEnd else { throw cursor.failure("trailing bytes after the data item") }
            return value
        }
    }

    static func item(_ cursor: inout CBORCursor, depth: Int) throws(CBORFailure) -> CBORValue {
        guard depth < CBORCursor.maxDepth else { throw cursor.failure("nesting too deep") }
        let start = cursor.offset
        let head = try cursor.readHead()
        switch head.major {
        case 0: return .unsigned(head.argument)
        case 1: return .negative(head.argument)
        case 2:
            var bytes: [UInt8] = []
            try cursor.stringPayload(head) { bytes.append(contentsOf: $0) }
            return .bytes(bytes)
        case 3: return .text(try cursor.text(head))
        case 4:
            var items: [CBORValue] = []
            if head.isIndefinite {
                while try !cursor.consumeBreak() { items.append(try item(&cursor, depth: depth + 1)) }
            } else {
                try cursor.checkCount(head.argument, itemsPerEntry: 1)
                items.reserveCapacity(Int(head.argument))
                for _ in 0..<head.argument { items.append(try item(&cursor, depth: depth + 1)) }
            }
            return .array(items)
        case 5:
            var pairs: [CBORPair] = []
            if head.isIndefinite {
                while try !cursor.consumeBreak() {
                    let key = try item(&cursor, depth: depth + 1)
                    pairs.append(CBORPair(key, try item(&cursor, depth: depth + 1)))
                }
            } else {
                try cursor.checkCount(head.argument, itemsPerEntry: 2)
                pairs.reserveCapacity(Int(head.argument))
                for _ in 0..<head.argument {
                    let key = try item(&cursor, depth: depth + 1)
                    pairs.append(CBORPair(key, try item(&cursor, depth: depth + 1)))
                }
            }
            return .map(pairs)
        case 6: return .tagged(head.argument, try item(&cursor, depth: depth + 1))
        default: return try simple(head, cursor, start)
        }
    }

    private static func simple(
        _ head: CBORCursor.Head,
        _ cursor: CBORCursor,
        _ start: Int
    ) throws(CBORFailure) -> CBORValue {
        switch head.info {
        case 20: return .bool(false)
        case 21: return .bool(true)
        case 22: return .null
        case 23: return .undefined
        case 24:
            // Two-byte simple values below 32 are not well-formed (RFC 8949 §3.3).
            guard head.argument >= 32 else {
                throw cursor.failure("simple value \(head.argument) in two-byte form", at: start)
            }
            return .simple(UInt8(truncatingIfNeeded: head.argument))
        case 25, 26, 27: return .float(CBORCursor.float(head))
        case 31: throw cursor.failure("\"break\" outside an indefinite-length item", at: start)
        default: return .simple(head.info)
        }
    }
}
