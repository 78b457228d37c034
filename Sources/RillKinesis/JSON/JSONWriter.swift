/// Writes JSON straight into bytes. Responses are built field by field in model member order, so the
/// GetRecords reply of 10,000 records costs one buffer and no intermediate objects.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// One flag per open container: whether it already holds a member (so the next needs a comma).
    private var hasMember: [Bool] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    private mutating func separate() {
        if let last = hasMember.last {
            if last { bytes.append(UInt8(ascii: ",")) }
            hasMember[hasMember.count - 1] = true
        }
    }

    public mutating func beginObject() {
        beginValue()
        bytes.append(UInt8(ascii: "{"))
        hasMember.append(false)
    }
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        hasMember.removeLast()
    }
    public mutating func beginArray() {
        beginValue()
        bytes.append(UInt8(ascii: "["))
        hasMember.append(false)
    }
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        hasMember.removeLast()
    }

    /// Writes a member name; the value written next belongs to it.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        afterKey = true
    }
    /// Set between a member name and its value, which must not add its own comma.
    private var afterKey = false

    private mutating func beginValue() {
        if afterKey {
            afterKey = false
        } else {
            separate()
        }
    }

    public mutating func string(_ value: String) {
        beginValue()
        bytes.append(UInt8(ascii: "\""))
        var value = value
        // Most strings (names, ids, sequence numbers) need no escaping: copy them whole.
        let plain = value.withUTF8 { utf8 in
            !utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        }
        if plain {
            value.withUTF8 { bytes.append(contentsOf: $0) }
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [
                    0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)],
                ])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func int(_ value: some BinaryInteger) {
        beginValue()
        bytes.append(contentsOf: Array(String(value).utf8))
    }

    public mutating func bool(_ value: Bool) {
        beginValue()
        bytes.append(contentsOf: value ? Array("true".utf8) : Array("false".utf8))
    }

    /// A timestamp as epoch seconds with three decimals (`1700000000.123`), what SDKs parse.
    public mutating func timestamp(millis: Int64) {
        beginValue()
        let negative = millis < 0
        let magnitude = millis.magnitude
        if negative { bytes.append(UInt8(ascii: "-")) }
        bytes.append(contentsOf: Array(String(magnitude / 1000).utf8))
        bytes.append(UInt8(ascii: "."))
        let fraction = magnitude % 1000
        bytes.append(UInt8(truncatingIfNeeded: 0x30 + fraction / 100))
        bytes.append(UInt8(truncatingIfNeeded: 0x30 + fraction / 10 % 10))
        bytes.append(UInt8(truncatingIfNeeded: 0x30 + fraction % 10))
    }

    /// A blob as padded standard base64 (RFC 4648 §4), encoded in place.
    public mutating func base64(_ data: [UInt8]) {
        beginValue()
        bytes.append(UInt8(ascii: "\""))
        Base64.encode(data, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Copies bytes that are already valid JSON for one value.
    public mutating func raw(_ json: [UInt8]) {
        beginValue()
        bytes.append(contentsOf: json)
    }
    public mutating func raw(_ json: ArraySlice<UInt8>) {
        beginValue()
        bytes.append(contentsOf: json)
    }
}
