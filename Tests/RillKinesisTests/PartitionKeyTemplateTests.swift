import RillKinesis
import RillModel
import Testing

/// `rill put`'s key templates: parsing and rendering.
@Suite struct PartitionKeyTemplateTests {
    static func render(_ template: String, data: String = "{}", number: Int = 7) throws -> String {
        var random = SplitMix64(seed: 1)
        return try PartitionKeyTemplate(template).render(
            .init(number: number, lineNumber: 3, file: "in.txt", data: Array(data.utf8)),
            random: &random
        )
    }

    @Test(
        "placeholders render",
        arguments: [
            ("user-{n}", "user-7"), ("{file}:{lineno}", "in.txt:3"), ("{{n}}", "{n}"), ("a}}b", "a}b"),
            ("{md5}", "99914b932bd37a50b983c5e7c90ae93b"),
        ]
    )
    func placeholders(template: String, expected: String) throws {
        #expect(try Self.render(template) == expected)
    }

    @Test("JSON fields: nested strings, numbers and booleans; missing fields and non-JSON are errors")
    func jsonFields() throws {
        let line = #"{"user":{"id":"u-1","n":42,"ok":true},"list":[1]}"#
        #expect(try Self.render("{json:user.id}", data: line) == "u-1")
        #expect(try Self.render("k{json:user.n}-{json:user.ok}", data: line) == "k42-true")
        #expect(throws: PartitionKeyTemplate.RenderError.self) { try Self.render("{json:user.missing}", data: line) }
        #expect(throws: PartitionKeyTemplate.RenderError.self) { try Self.render("{json:list}", data: line) }
        #expect(throws: PartitionKeyTemplate.RenderError.self) { try Self.render("{json:a}", data: "not json") }
        #expect(try PartitionKeyTemplate.jsonField("user.id") == PartitionKeyTemplate("{json:user.id}"))
    }

    @Test("random keys differ and are 32 hex digits; keys over 256 characters are refused")
    func randomAndLength() throws {
        var random = SplitMix64(seed: 2)
        let template = PartitionKeyTemplate.random
        let context = PartitionKeyTemplate.Context(number: 0, lineNumber: 1, file: "-", data: [])
        let first = try template.render(context, random: &random)
        let second = try template.render(context, random: &random)
        #expect(first != second && first.count == 32 && first.allSatisfy(\.isHexDigit))
        #expect(throws: PartitionKeyTemplate.RenderError.self) { try Self.render(String(repeating: "x", count: 257)) }
    }

    @Test("malformed templates are refused", arguments: ["{", "}", "{nope}", "{json:}", "{json:a..b}", ""])
    func malformed(template: String) {
        #expect(throws: PartitionKeyTemplate.ParseError.self) { try PartitionKeyTemplate(template) }
    }
}
