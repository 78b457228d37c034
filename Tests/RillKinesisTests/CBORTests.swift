import RillKinesis
import Testing

/// Hex to bytes, for test vectors written the way RFC 8949 Appendix A prints them.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8).filter { $0 != UInt8(ascii: " ") }
    return stride(from: 0, to: digits.count, by: 2).map { i in
        UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) ?? 0
    }
}

@Suite struct CBORTests {
    /// RFC 8949 Appendix A: every major type, each integer width, half/single/double floats, tags, and the
    /// indefinite-length forms Jackson's generator emits.
    static let vectors: [(String, CBORValue)] = [
        ("00", .unsigned(0)), ("17", .unsigned(23)), ("1818", .unsigned(24)), ("1903e8", .unsigned(1000)),
        ("1a000f4240", .unsigned(1_000_000)), ("1b000000e8d4a51000", .unsigned(1_000_000_000_000)),
        ("1bffffffffffffffff", .unsigned(.max)), ("20", .negative(0)), ("3863", .negative(99)),
        ("3903e7", .negative(999)), ("3bffffffffffffffff", .negative(.max)),
        ("f90000", .float(0)), ("f93c00", .float(1)), ("f93e00", .float(1.5)), ("f97bff", .float(65504)),
        ("f90001", .float(5.960464477539063e-8)), ("f90400", .float(0.00006103515625)), ("f9c400", .float(-4)),
        ("f97c00", .float(.infinity)), ("f9fc00", .float(-.infinity)), ("fa47c35000", .float(100_000)),
        ("fa7f7fffff", .float(3.4028234663852886e+38)), ("fb3ff199999999999a", .float(1.1)),
        ("fbc010666666666666", .float(-4.1)), ("fb7e37e43c8800759c", .float(1.0e+300)),
        ("f4", .bool(false)), ("f5", .bool(true)), ("f6", .null), ("f7", .undefined), ("f0", .simple(16)),
        ("f8ff", .simple(255)),
        ("c074323031332d30332d32315432303a30343a30305a", .tagged(0, .text("2013-03-21T20:04:00Z"))),
        ("c11a514b67b0", .tagged(1, .unsigned(1_363_896_240))),
        ("c1fb41d452d9ec200000", .tagged(1, .float(1_363_896_240.5))),
        ("40", .bytes([])), ("4401020304", .bytes([1, 2, 3, 4])), ("60", .text("")), ("6449455446", .text("IETF")),
        ("62225c", .text("\"\\")), ("62c3bc", .text("ü")), ("63e6b0b4", .text("水")), ("64f0908591", .text("𐅑")),
        ("80", .array([])),
        (
            "8301820203820405",
            .array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])])
        ),
        ("a0", .map([])),
        ("a201020304", .map([CBORPair(.unsigned(1), .unsigned(2)), CBORPair(.unsigned(3), .unsigned(4))])),
        (
            "a26161016162820203",
            .map([CBORPair(.text("a"), .unsigned(1)), CBORPair(.text("b"), .array([.unsigned(2), .unsigned(3)]))])
        ),
        // Indefinite lengths.
        ("5f42010243030405ff", .bytes([1, 2, 3, 4, 5])), ("7f657374726561646d696e67ff", .text("streaming")),
        ("9fff", .array([])),
        (
            "9f018202039f0405ffff",
            .array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])])
        ),
        (
            "bf61610161629f0203ffff",
            .map([CBORPair(.text("a"), .unsigned(1)), CBORPair(.text("b"), .array([.unsigned(2), .unsigned(3)]))])
        ),
        ("826161bf61626163ff", .array([.text("a"), .map([CBORPair(.text("b"), .text("c"))])])),
    ]

    @Test("decodes the RFC 8949 Appendix A vectors", arguments: 0..<vectors.count)
    func decodesVector(index: Int) throws {
        let (bytes, expected) = Self.vectors[index]
        #expect(try CBORDecoder.decode(hex(bytes)) == expected, "\(bytes)")
    }

    @Test("decodes a half-precision NaN")
    func halfNaN() throws {
        guard case .float(let value) = try CBORDecoder.decode(hex("f97e00")) else {
            Issue.record("not a float")
            return
        }
        #expect(value.isNaN)
    }

    @Test("re-encodes definite vectors byte for byte and every vector to an equal value", arguments: 0..<vectors.count)
    func roundTrips(index: Int) throws {
        let (bytes, value) = Self.vectors[index]
        var writer = CBORWriter()
        writer.value(value)
        #expect(try CBORDecoder.decode(writer.bytes) == value)
        // The writer prefers single precision over half and definite over indefinite lengths.
        let isHalf = bytes.hasPrefix("f9")
        let isIndefinite = ["5f", "7f", "9f", "bf", "826161bf"].contains { bytes.hasPrefix($0) }
        if !isHalf, !isIndefinite { #expect(writer.bytes == hex(bytes), "\(bytes)") }
    }

    @Test("definite lengths are patched in for containers of any size", arguments: [0, 23, 24, 255, 256, 65_536])
    func patchesLengths(count: Int) throws {
        var writer = CBORWriter()
        writer.beginMap()
        writer.text("Records")
        writer.beginArray()
        for i in 0..<count { writer.int(Int64(i)) }
        writer.endArray()
        writer.endMap()
        #expect(
            try CBORDecoder.decode(writer.bytes)
                == .map([CBORPair(.text("Records"), .array((0..<count).map { .unsigned(UInt64($0)) }))])
        )
    }

    @Test("timestamps are tag 1 with integer milliseconds, as the Java SDK writes them")
    func timestamps() throws {
        var writer = CBORWriter()
        writer.timestamp(millis: 1_700_000_000_123)
        #expect(writer.bytes == hex("c1 1b 0000018bcfe5687b"))
        #expect(try CBORDecoder.decode(writer.bytes) == .tagged(1, .unsigned(1_700_000_000_123)))
    }

    /// Malformed input of every kind: each is refused with a failure, never a trap or a large allocation.
    static let malformed: [(String, String)] = [
        ("", "empty input"), ("18", "truncated argument"), ("1b0000", "truncated 8-byte argument"),
        ("1c", "reserved additional information"), ("5bffffffffffffffff", "absurd byte string length"),
        ("7b7fffffffffffffff", "absurd text length"), ("9bffffffffffffffff", "absurd array count"),
        ("bb7fffffffffffffff00", "map count that overflows"), ("9a00010000", "array longer than the input"),
        ("6261", "truncated text"), ("62c328", "text that is not UTF-8"), ("7f61c3ff", "chunk that is not UTF-8"),
        ("ff", "stray break"), ("1f", "indefinite integer"), ("3f", "indefinite negative"), ("df00", "indefinite tag"),
        ("5f6161ff", "text chunk in a byte string"), ("5f5fffff", "indefinite chunk"),
        ("f810", "two-byte simple below 32"),
        ("9f01", "unterminated indefinite array"), ("a101", "map without its value"),
        ("bf0102", "unterminated indefinite map"),
        ("0000", "trailing bytes"), ("c1", "tag without content"), ("fa0000", "truncated float"),
        (String(repeating: "81", count: 100) + "00", "arrays nested 100 deep"),
        (String(repeating: "c1", count: 100) + "00", "tags nested 100 deep"),
        (
            String(repeating: "bf6161", count: 70) + "00" + String(repeating: "ff", count: 70),
            "indefinite maps nested 70 deep"
        ),
    ]

    @Test("refuses malformed CBOR", arguments: 0..<malformed.count)
    func refusesMalformed(index: Int) {
        let (bytes, why) = Self.malformed[index]
        #expect(throws: CBORFailure.self, "\(why)") { try CBORDecoder.decode(hex(bytes)) }
        // The empty body passes through to the JSON path, which has its own message for it.
        guard !bytes.isEmpty else { return }
        do {
            _ = try WireProtocol.cbor.requestJSON(hex(bytes))
            Issue.record("accepted: \(why)")
        } catch {
            #expect(error.code == .serialization, "\(why)")
        }
    }

    @Test("nesting up to the limit is accepted")
    func acceptsDeepButBounded() throws {
        let bytes = hex(String(repeating: "81", count: 63) + "00")
        _ = try CBORDecoder.decode(bytes)
    }
}
