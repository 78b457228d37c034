import Foundation
import RillChaos
import Testing

@Suite struct HistoryCodecTests {
    static let sample: [HistoryEvent] = [
        .write(.acknowledged(time: 812.5, process: 3, id: "w3-17", shard: shard1, sequence: sequence(17))),
        .write(.failed(time: 900, process: 3, id: "w3-18", error: "InternalFailureException")),
        .write(
            .failed(time: 901, process: 4, id: "w4-1", error: "ProvisionedThroughputExceededException", shard: shard0)
        ),
        .write(
            WriteEvent(
                time: 902,
                process: 4,
                id: "w4-2",
                outcome: .info,
                error: "timeout",
                attempt: 2,
                producer: "chaos.w4",
                producerSequence: 2
            )
        ),
        .read(
            ReadEvent(
                time: 950.25,
                process: 9,
                shard: shard1,
                isFinal: false,
                records: [ReadRecord(id: "w3-17", sequence: sequence(17))],
                from: "TRIM_HORIZON"
            )
        ),
        .read(ReadEvent(time: 60_000, process: 999, shard: shard1, isFinal: true, records: [])),
        .fault(FaultEvent(time: 1000, kind: .kill, target: "node-2", phase: .start, detail: "SIGKILL")),
        .fault(FaultEvent(time: 3000, kind: FaultKind(rawValue: "bitflip"), target: "node-1", phase: .end)),
        .checksums(
            ChecksumsEvent(
                time: 60_010,
                node: "node-1",
                shards: [
                    ShardChecksum(shard: shard1, applied: 812, sha256: "9f86d081884c7d65", records: 4051)
                ]
            )
        ),
        .lineage(
            LineageEvent(
                time: 60_020,
                shards: [
                    .init(shard: shard0), .init(shard: shard1, parents: [shard0]),
                    .init(shard: "shardId-000000000002", parents: [shard0, shard1]),
                ]
            )
        ),
    ]

    @Test("every event type survives a round trip through JSON lines")
    func roundTrip() throws {
        let history = History(events: Self.sample)
        let data = try history.jsonLines()
        #expect(try History(jsonLines: data) == history)
        // One event per line, each line complete.
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == Self.sample.count)
        #expect(try history.jsonLines() == data, "encoding is deterministic")
    }

    @Test("lines use the documented field names")
    func wireNames() throws {
        let text = String(decoding: try History(events: Self.sample).jsonLines(), as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(
            lines[0] == #"{"id":"w3-17","outcome":"ok","process":3,"sequence":""# + sequence(17).digits
                + #"","shard":"shardId-000000000001","time":812.5,"type":"write"}"#
        )
        #expect(lines[1].contains(#""outcome":"info""#) && lines[1].contains(#""error":"InternalFailureException""#))
        #expect(lines[2].contains(#""outcome":"fail""#))
        #expect(
            lines[3].contains(#""attempt":2"#) && lines[3].contains(#""producer":"chaos.w4""#)
                && lines[3].contains(#""producerSequence":2"#)
        )
        #expect(lines[4].contains(#""final":false"#) && lines[4].contains(#""from":"TRIM_HORIZON""#))
        #expect(lines[6].contains(#""kind":"kill""#) && lines[6].contains(#""phase":"start""#))
        #expect(lines[8].contains(#""shardId":"shardId-000000000001""#) && lines[8].contains(#""applied":812"#))
        #expect(lines[9].contains(#""type":"lineage""#) && lines[9].contains(#""parents":["shardId-000000000000"]"#))
    }

    @Test("any key order, unknown keys, blank lines, CRLF and a missing final newline are accepted")
    func lenientInput() throws {
        let text = """
            {"type":"write","time":1,"process":1,"id":"a","shard":"s","sequence":"0042","outcome":"ok","extra":[1]}\r

               
            {"outcome":"info","id":"b","process":2,"time":2.5,"type":"write"}
            """
        let events = try HistoryReader.decode(Data(text.utf8))
        #expect(events.count == 2)
        guard case .write(let first) = events[0] else {
            Issue.record("expected a write, got \(events[0])")
            return
        }
        #expect(first.sequence?.digits == "42")
        #expect(events[1].type == .write && events[1].time == 2.5)
    }

    @Test(
        "a malformed line is reported by number with what is wrong",
        arguments: [
            (#"{"type":"write","time":1,"process":1,"id":"a","outcome":"ok"}"#, "needs \"shard\" and \"sequence\""),
            (#"{"type":"write","time":1,"process":1,"outcome":"ok"}"#, "missing \"id\""),
            (#"{"type":"write","time":"soon","process":1,"id":"a","outcome":"info"}"#, "\"time\" is not a number"),
            (#"{"type":"write","time":1,"process":1,"id":"a","outcome":"maybe"}"#, "\"outcome\""),
            (#"{"type":"nap","time":1}"#, "unknown event type \"nap\""),
            (#"{"time":1}"#, "missing \"type\""),
            (
                #"{"type":"read","time":1,"process":1,"shard":"s","final":true,"records":[{"id":"x","sequence":"12a"}]}"#,
                "records[0].sequence"
            ),
            (#"{"type":"write","time":1,"process":1,"id":"a","outcome":"info""#, "not valid JSON"),
            ("[1,2,3]", "not a JSON object"),
            ("\u{FF}\u{FE}garbage", "not valid JSON"),
        ]
    )
    func malformed(line: String, expected: String) throws {
        let good = #"{"type":"fault","time":0,"kind":"kill","target":"node-1","phase":"start"}"#
        let data = Data((good + "\n\n" + line + "\n" + good + "\n").utf8)
        do {
            _ = try HistoryReader.decode(data)
            Issue.record("line was accepted: \(line)")
        } catch {
            #expect(error.code == .malformedLine)
            #expect(error.line == 3)
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.description.hasPrefix("history line 3 is malformed: "))
        }
    }

    @Test("an unreadable file is an error, not a crash")
    func unreadable() {
        let url = URL(fileURLWithPath: "/nonexistent/rill-chaos/history.jsonl")
        #expect(throws: HistoryReadError.self) { try HistoryReader.read(contentsOf: url) }
        do {
            _ = try HistoryReader.read(contentsOf: url)
        } catch {
            #expect(error.code == .unreadableFile && error.description.contains("history.jsonl"))
        }
    }

    @Test(
        "write outcomes follow the Kinesis error code",
        arguments: [
            ("ValidationException", WriteOutcome.fail),
            ("ResourceNotFoundException", .fail),
            ("ProvisionedThroughputExceededException", .fail),
            ("InvalidArgumentException", .fail),
            ("InternalFailureException", .info),
            ("InternalFailure", .info),
            ("ServiceUnavailable", .info),
            ("timeout", .info),
            ("connection", .info),
        ]
    )
    func outcomes(code: String, outcome: WriteOutcome) {
        #expect(WriteOutcome.forError(code) == outcome)
    }
}
