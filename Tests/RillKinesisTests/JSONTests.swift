import RillKinesis
import Testing

@Suite struct JSONTests {
    @Test("parses every JSON type with escapes and surrogate pairs")
    func parsesDocuments() throws {
        let text = #"{"a": [1, -2.5e3, true, false, null], "b": "x\"\\\/\n\u00e9\ud83d\ude00", "c": {}}"#
        let value = try JSONParser.parse(Array(text.utf8))
        guard case .object(let object) = value else {
            Issue.record("not an object")
            return
        }
        #expect(object["a"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]))
        #expect(object["b"] == .string("x\"\\/\né😀"))
        #expect(object["c"] == .object(JSONObject()))
    }

    @Test(
        "rejects malformed documents without trapping",
        arguments: [
            "", "{", "{\"a\"}", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "\"\\x\"", "\"\\ud800\"", "nul", "{} {}",
            "\"\u{01}\"",
            String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
        ]
    )
    func rejectsMalformed(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test("writer output parses back to the same values")
    func writerRoundTrip() throws {
        var w = JSONWriter()
        w.beginObject()
        w.key("S")
        w.string("q\"\n\u{01}é")
        w.key("N")
        w.int(-42)
        w.key("T")
        w.timestamp(millis: 1_700_000_000_123)
        w.key("B")
        w.base64([0, 1, 2, 255])
        w.key("L")
        w.beginArray()
        w.bool(true)
        w.beginObject()
        w.endObject()
        w.endArray()
        w.endObject()
        let value = try JSONParser.parse(w.bytes)
        guard case .object(let object) = value else {
            Issue.record("not an object")
            return
        }
        #expect(object["S"] == .string("q\"\n\u{01}é"))
        #expect(object["N"] == .number("-42"))
        #expect(object["T"] == .number("1700000000.123"))
        #expect(object["B"] == .string("AAEC/w=="))
        #expect(object["L"] == .array([.bool(true), .object(JSONObject())]))
    }

    @Test("base64 round trips every length and refuses bad input")
    func base64() throws {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(try Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(throws: Base64.DecodeError.badLength(3)) { try Base64.decode("abc") }
        #expect(throws: Base64.DecodeError.badCharacter) { try Base64.decode("ab!=") }
        #expect(throws: Base64.DecodeError.badCharacter) { try Base64.decode("a=bc") }
    }
}
