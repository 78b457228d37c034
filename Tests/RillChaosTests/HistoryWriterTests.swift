import Foundation
import RillChaos
import Testing

@Suite struct HistoryWriterTests {
    private func temporaryURL() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("rill-chaos-\(UUID().uuidString).jsonl")
    }

    @Test("concurrent writers leave whole lines that read back as the same events")
    func concurrentAppends() async throws {
        let url = temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        let writer = try HistoryWriter(creatingFileAt: url)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for process in 0..<8 {
                group.addTask {
                    for n in 0..<250 {
                        let event = HistoryEvent.write(
                            .acknowledged(
                                time: Double(n),
                                process: process,
                                id: "w\(process)-\(n)",
                                shard: shard0,
                                sequence: sequence(process * 1000 + n)
                            )
                        )
                        try writer.append(event)
                    }
                }
            }
            try await group.waitForAll()
        }
        try writer.close()
        let events = try HistoryReader.read(contentsOf: url).events
        #expect(events.count == 2000)
        // Each process's lines stay in its program order.
        for process in 0..<8 {
            let ids = events.compactMap { event -> String? in
                guard case .write(let write) = event, write.process == process else { return nil }
                return write.id
            }
            #expect(ids == (0..<250).map { "w\(process)-\($0)" })
        }
    }

    @Test("a batch is written as consecutive lines and the file reads back exactly")
    func batch() throws {
        let url = temporaryURL()
        defer { try? FileManager.default.removeItem(at: url) }
        let writer = try HistoryWriter(creatingFileAt: url)
        try writer.append(contentsOf: HistoryCodecTests.sample)
        try writer.close()
        try writer.close()  // closing twice is harmless
        #expect(try HistoryReader.read(contentsOf: url) == History(events: HistoryCodecTests.sample))
        #expect(try Data(contentsOf: url) == (try History(events: HistoryCodecTests.sample).jsonLines()))
    }

    @Test("creating a history where no file can be made throws")
    func uncreatable() {
        #expect(throws: (any Error).self) {
            try HistoryWriter(creatingFileAt: URL(fileURLWithPath: "/nonexistent/dir/history.jsonl"))
        }
    }
}
