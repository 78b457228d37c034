import RillKinesis
import Testing

@Suite struct JSONSlicesTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func membersAndElementsAreFoundByRangeWithoutDecodingValues() throws {
        let body = Self.bytes(
            #" { "StreamName" : "s", "Records": [ {"Data":"aGk=","PartitionKey":"k\"1"}, {"Data":"eA==","PartitionKey":"k2","ExplicitHashKey":"5"} ] } "#
        )
        let top = try #require(JSONSlices.members(body, in: 0..<body.count))
        #expect(top.map(\.key) == ["StreamName", "Records"])
        #expect(JSONSlices.string(body, in: top[0].value) == "s")
        let records = try #require(JSONSlices.elements(body, in: top[1].value))
        #expect(records.count == 2)
        #expect(String(decoding: body[records[0]], as: UTF8.self) == #"{"Data":"aGk=","PartitionKey":"k\"1"}"#)
        let first = try #require(JSONSlices.members(body, in: records[0]))
        #expect(JSONSlices.string(body, in: first[1].value) == "k\"1")
        let second = try #require(JSONSlices.members(body, in: records[1]))
        #expect(second.map(\.key) == ["Data", "PartitionKey", "ExplicitHashKey"])
    }

    @Test func escapedQuotesAndBackslashesEndStringsWhereJSONSays() throws {
        let body = Self.bytes(#"{"a":"x\\","b":"y\\\"z","c":[1,{"d":null}],"e":true}"#)
        let top = try #require(JSONSlices.members(body, in: 0..<body.count))
        #expect(top.map(\.key) == ["a", "b", "c", "e"])
        #expect(JSONSlices.string(body, in: top[0].value) == "x\\")
        #expect(JSONSlices.string(body, in: top[1].value) == "y\\\"z")
        #expect(JSONSlices.elements(body, in: top[2].value)?.count == 2)
    }

    @Test(arguments: [#"{"a":"#, #"{"a":"x"#, #"{"a":[1,2"#, #"{"a" 1}"#, #"["#, #"{"a":1,}"#, #"{"a":1]"#, ""])
    func malformedInputIsNilNeverATrap(_ text: String) {
        let body = Self.bytes(text)
        let top = JSONSlices.members(body, in: 0..<body.count)
        #expect(top == nil || top?.isEmpty == false)
        if text == #"{"a":1,}"# || text == #"{"a":1]"# { #expect(top == nil) }
    }
}
