import Foundation
import RillClient
import RillKinesis
import Testing

@testable import RillCLI

/// What `rill tail` prints, and how it reads `--from`.
@Suite struct TailFormatTests {
    static let record = KinesisClient.StreamRecord(
        sequenceNumber: "49590338271490256608559692538361571095921575989136588898",
        partitionKey: "pk",
        data: Array("hi".utf8),
        approximateArrivalTimestamp: 1_700_000_000.25
    )

    @Test("raw mode prints the data and a newline")
    func raw() {
        let format = TailFormat(json: false, deaggregate: true)
        var output: [UInt8] = []
        for line in format.lines(of: Self.record, shardID: "shardId-000000000000") {
            format.render(line, into: &output)
        }
        #expect(output == Array("hi\n".utf8))
    }

    @Test("JSON mode prints the fields a consumer needs, data in base64")
    func json() throws {
        let format = TailFormat(json: true, deaggregate: true)
        var output: [UInt8] = []
        for line in format.lines(of: Self.record, shardID: "shardId-000000000000") {
            format.render(line, into: &output)
        }
        #expect(output.last == 0x0A)
        let object = try #require(JSONSerialization.jsonObject(with: Data(output.dropLast())) as? [String: Any])
        #expect(object["shardId"] as? String == "shardId-000000000000")
        #expect(object["sequenceNumber"] as? String == Self.record.sequenceNumber)
        #expect(object["partitionKey"] as? String == "pk")
        #expect(object["data"] as? String == "aGk=")
        #expect(object["approximateArrivalTimestamp"] as? Double == 1_700_000_000.25)
        #expect(object["subSequenceNumber"] == nil)
    }

    @Test("an aggregate becomes its user records with sub-sequence numbers; --no-deaggregate prints it whole")
    func deaggregation() throws {
        var aggregator = KPLAggregator()
        for index in 0..<3 {
            _ = aggregator.add(KPLUserRecord(partitionKey: "u\(index)", data: Array("r\(index)".utf8)))
        }
        let flushedOutput = aggregator.flush()
        let output = try #require(flushedOutput)
        var record = Self.record
        record.data = output.data
        let lines = TailFormat(json: true, deaggregate: true).lines(of: record, shardID: "s")
        #expect(lines.map(\.subSequenceNumber) == [0, 1, 2])
        #expect(lines.map(\.partitionKey) == ["u0", "u1", "u2"])
        #expect(lines.map { String(decoding: $0.data, as: UTF8.self) } == ["r0", "r1", "r2"])
        #expect(TailFormat(json: true, deaggregate: false).lines(of: record, shardID: "s").count == 1)
    }

    @Test(
        "--from takes latest, trim-horizon, ISO 8601 and epoch seconds",
        arguments: [
            ("latest", ShardLineage.StartPosition.latest), ("trim-horizon", .trimHorizon),
            ("TRIM_HORIZON", .trimHorizon),
            ("1700000000", .atTimestamp(1_700_000_000)), ("1700000000.5", .atTimestamp(1_700_000_000.5)),
            ("2023-11-14T22:13:20Z", .atTimestamp(1_700_000_000)),
            ("2023-11-14T22:13:20.250Z", .atTimestamp(1_700_000_000.25)),
        ]
    )
    func from(text: String, expected: ShardLineage.StartPosition) {
        #expect(TailCommand.parseStart(text) == expected)
    }

    @Test("--from refuses anything else", arguments: ["yesterday", "-5", "2023-13-40T00:00:00Z", ""])
    func badFrom(text: String) {
        #expect(TailCommand.parseStart(text) == nil)
    }
}
