import Foundation
import Logging
import NIOConcurrencyHelpers
import RillCLI
import Testing

/// `--log-format json`: the shape of a line, read back with JSONSerialization.
@Suite struct JSONLogHandlerTests {
    static func parse(_ line: [UInt8]) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
    }

    @Test("a line is one JSON object: time with ms, level, label, message, metadata flattened")
    func shape() throws {
        let lines = NIOLockedValueBox<[[UInt8]]>([])
        var handler = JSONLogHandler(label: "rill.node") { line in lines.withLockedValue { $0.append(line) } }
        handler.logLevel = .debug
        var logger = Logger(label: "rill.node", factory: { _ in handler })
        logger[metadataKey: "rill.node"] = "1"
        logger[metadataKey: "rill.az"] = "az-a"
        logger.info(
            "stream created",
            metadata: [
                "rill.stream": "orders", "shards": .stringConvertible(4), "request": ["id": "abc"],
                "level": "shadowed", "note": "a \"quoted\"\nline\u{1}",
            ]
        )
        logger.trace("below the level")

        let written = lines.withLockedValue { $0 }
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(line.dropLast().contains(UInt8(ascii: "\n")) == false)
        let object = try Self.parse(line)
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "rill.node")
        #expect(object["message"] as? String == "stream created")
        #expect(object["rill.node"] as? String == "1")
        #expect(object["rill.az"] as? String == "az-a")
        #expect(object["rill.stream"] as? String == "orders")
        #expect(object["shards"] as? String == "4")
        #expect(object["request.id"] as? String == "abc")
        #expect(object["metadata.level"] as? String == "shadowed")
        #expect(object["note"] as? String == "a \"quoted\"\nline\u{1}")
        let time = try #require(object["time"] as? String)
        #expect(time.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil)
    }

    @Test("time is UTC ISO-8601 with milliseconds")
    func time() throws {
        let line = JSONLogHandler.line(
            time: Date(timeIntervalSince1970: 1_700_000_000.123),
            level: .warning,
            label: "x",
            message: "m",
            metadata: [:]
        )
        let object = try Self.parse(line)
        #expect(object["time"] as? String == "2023-11-14T22:13:20.123Z")
        #expect(object.count == 4)
    }
}
