/// Writes CBOR (RFC 8949) straight into bytes, in preferred serialization: the shortest head for every
/// argument, and definite lengths for maps and arrays even when their size is only known at the end.
///
/// `beginMap()`/`beginArray()` write a one-byte head and remember where; the matching `end…()` patches in
/// the count, inserting the extra head bytes only when the container holds 24 or more items (the Records of a
/// GetRecords). Containers close innermost first, so an insertion never moves the start of an open one.
public struct CBORWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Open containers: where their head byte is and how many items they hold so far.
    private var open: [(position: Int, items: UInt64)] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// Counts one item toward the innermost open container.
    private mutating func item() {
        if !open.isEmpty { open[open.count - 1].items += 1 }
    }

    /// Writes a head with the shortest encoding of `argument` (RFC 8949 §4.2.1).
    mutating func head(_ major: UInt8, _ argument: UInt64) {
        Self.appendHead(major, argument, to: &bytes)
    }

    static func appendHead(_ major: UInt8, _ argument: UInt64, to bytes: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24: bytes.append(type | UInt8(argument))
        case 24...0xFF: bytes.append(contentsOf: [type | 24, UInt8(argument)])
        case 0x100...0xFFFF:
            bytes.append(contentsOf: [type | 25, UInt8(argument >> 8), UInt8(truncatingIfNeeded: argument)])
        case 0x1_0000...0xFFFF_FFFF:
            bytes.append(type | 26)
            for shift in stride(from: 24, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: argument >> UInt64(shift)))
            }
        default:
            bytes.append(type | 27)
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: argument >> UInt64(shift)))
            }
        }
    }

    public mutating func unsigned(_ value: UInt64) {
        item()
        head(0, value)
    }

    public mutating func int(_ value: Int64) {
        item()
        if value >= 0 { head(0, UInt64(value)) } else { head(1, UInt64(-1 - value)) }
    }

    /// A negative integer `-1 - n` (major type 1), for values below `Int64.min`.
    public mutating func negative(_ n: UInt64) {
        item()
        head(1, n)
    }

    public mutating func bytes(_ data: some Collection<UInt8>) {
        item()
        head(2, UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    public mutating func text(_ value: String) {
        item()
        var value = value
        value.withUTF8 { utf8 in
            head(3, UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// A text string from bytes the caller knows are UTF-8.
    public mutating func text(utf8: some Collection<UInt8>) {
        item()
        head(3, UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// Encoded items copied as they stand, counted as `items` toward the open container: a record the router
    /// passes on byte for byte, or a run of whole map entries (two items each). The caller vouches that the
    /// bytes hold exactly that many well-formed items.
    public mutating func raw(_ encoded: some Collection<UInt8>, items: UInt64 = 1) {
        if !open.isEmpty { open[open.count - 1].items += items }
        bytes.append(contentsOf: encoded)
    }

    public mutating func bool(_ value: Bool) {
        item()
        bytes.append(value ? 0xF5 : 0xF4)
    }

    public mutating func null() {
        item()
        bytes.append(0xF6)
    }

    /// A double; written as a single-precision float when that loses nothing, NaN as the canonical half.
    public mutating func double(_ value: Double) {
        item()
        if value.isNaN {
            bytes.append(contentsOf: [0xF9, 0x7E, 0x00])
        } else if Double(Float(value)) == value {
            bytes.append(0xFA)
            appendBigEndian(UInt64(Float(value).bitPattern), count: 4)
        } else {
            bytes.append(0xFB)
            appendBigEndian(value.bitPattern, count: 8)
        }
    }

    private mutating func appendBigEndian(_ value: UInt64, count: Int) {
        for index in stride(from: count - 1, through: 0, by: -1) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(index * 8)))
        }
    }

    /// A tag; the next value written is its content and counts as the item.
    public mutating func tag(_ number: UInt64) { head(6, number) }

    /// A timestamp the way the AWS SDK for Java writes one: tag 1 and integer epoch *milliseconds*.
    public mutating func timestamp(millis: Int64) {
        tag(1)
        int(millis)
    }

    public mutating func beginMap() { begin(5) }
    public mutating func endMap() { end(pairs: true) }
    public mutating func beginArray() { begin(4) }
    public mutating func endArray() { end(pairs: false) }

    private mutating func begin(_ major: UInt8) {
        item()
        open.append((bytes.count, 0))
        bytes.append(major << 5)
    }

    private mutating func end(pairs: Bool) {
        guard let last = open.popLast() else { preconditionFailure("CBORWriter: end without a matching begin") }
        let count = pairs ? last.items / 2 : last.items
        let major = bytes[last.position] >> 5
        if count < 24 {
            bytes[last.position] = major << 5 | UInt8(count)
        } else {
            var head: [UInt8] = []
            Self.appendHead(major, count, to: &head)
            bytes.replaceSubrange(last.position...last.position, with: head)
        }
    }

    /// Writes a decoded value back out (definite lengths, preferred serialization).
    public mutating func value(_ value: CBORValue) {
        switch value {
        case .unsigned(let n): unsigned(n)
        case .negative(let n): negative(n)
        case .bytes(let data): bytes(data)
        case .text(let text): self.text(text)
        case .array(let items):
            beginArray()
            for element in items { self.value(element) }
            endArray()
        case .map(let pairs):
            beginMap()
            for pair in pairs {
                self.value(pair.key)
                self.value(pair.value)
            }
            endMap()
        case .tagged(let number, let content):
            tag(number)
            self.value(content)
        case .simple(let n):
            item()
            if n < 24 { head(7, UInt64(n)) } else { bytes.append(contentsOf: [0xF8, n]) }
        case .bool(let flag): bool(flag)
        case .null: null()
        case .undefined:
            item()
            bytes.append(0xF7)
        case .float(let number): double(number)
        }
    }
}
