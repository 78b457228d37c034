import Foundation
import Testing

@testable import RillCLI

/// How `rill put` cuts its input into records.
@Suite struct InputRecordsTests {
    static func file(_ contents: String) throws -> String {
        let path = NSTemporaryDirectory() + "rill-put-\(UUID().uuidString)"
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func readAll(_ input: InputRecords) throws -> [InputRecord] {
        var all: [InputRecord] = []
        for _ in 0..<1000 {
            let chunk = try input.next(maxRecords: 2, maxBytes: 1 << 20)
            if chunk.isEmpty { return all }
            all += chunk
        }
        Issue.record("input did not end")
        return all
    }

    @Test("lines without their newlines, empty lines kept, a last line without a newline counted, files in turn")
    func lines() throws {
        let first = try Self.file("a\n\nb\nlast")
        let second = try Self.file("c\n")
        defer { for path in [first, second] { try? FileManager.default.removeItem(atPath: path) } }
        let records = try Self.readAll(InputRecords(files: [first, second], mode: .lines))
        #expect(records.map { String(decoding: $0.data, as: UTF8.self) } == ["a", "", "b", "last", "c"])
        #expect(records.map(\.lineNumber) == [1, 2, 3, 4, 1])
        #expect(records.map(\.file) == [first, first, first, first, second])
    }

    @Test("--whole-file makes one record per file, newlines and all")
    func wholeFile() throws {
        let first = try Self.file("x\ny\n")
        let second = try Self.file("")
        defer { for path in [first, second] { try? FileManager.default.removeItem(atPath: path) } }
        let records = try Self.readAll(InputRecords(files: [first, second], mode: .wholeFile))
        #expect(records.map { String(decoding: $0.data, as: UTF8.self) } == ["x\ny\n", ""])
    }

    @Test("a missing file is an error naming it")
    func missing() {
        #expect(throws: ToolFailure.self) {
            try InputRecords(files: ["/nonexistent/rill"], mode: .lines).next(maxRecords: 1, maxBytes: 1)
        }
    }
}
