import Foundation
import Testing

@testable import RillChaosRunner

@Suite struct SegmentDamageTests {
    /// A data dir with one shard log of two segments, the newest holding `bytes`.
    static func dataDirectory(newest bytes: [UInt8]) throws -> (root: URL, newest: URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rill-damage-\(UUID().uuidString)")
        let shard = root.appendingPathComponent("shards/stream-1/shardId-000000000000")
        try FileManager.default.createDirectory(
            at: shard.appendingPathComponent("damaged"),
            withIntermediateDirectories: true
        )
        try Data(repeating: 7, count: 64).write(to: shard.appendingPathComponent("00000000000000000001.log"))
        let newest = shard.appendingPathComponent("00000000000000000100.log")
        try Data(bytes).write(to: newest)
        try Data(repeating: 1, count: 8).write(to: shard.appendingPathComponent("00000000000000000100.idx"))
        try Data().write(to: root.appendingPathComponent("shards/stream-1/shardId-000000000000/abstaining"))
        return (root, newest)
    }

    @Test func aBitflipChangesExactlyOneBitOfTheNewestSegment() throws {
        let original = (0..<4096).map { UInt8(truncatingIfNeeded: $0 * 31) }
        let (root, newest) = try Self.dataDirectory(newest: original)
        defer { try? FileManager.default.removeItem(at: root) }
        let detail = try SegmentDamage.apply(.bitflip, salt: 42, dataDirectory: root)
        #expect(detail?.contains("00000000000000000100.log") == true)
        let damaged = [UInt8](try Data(contentsOf: newest))
        #expect(damaged.count == original.count)
        let flipped = zip(original, damaged).map { ($0 ^ $1).nonzeroBitCount }.reduce(0, +)
        #expect(flipped == 1)
    }

    @Test func aTruncationCutsTheTailButNeverTheHeader() throws {
        for salt in UInt64(1)...20 {
            let (root, newest) = try Self.dataDirectory(newest: [UInt8](repeating: 9, count: 300))
            defer { try? FileManager.default.removeItem(at: root) }
            _ = try SegmentDamage.apply(.truncate, salt: salt, dataDirectory: root)
            let size = try Data(contentsOf: newest).count
            #expect((20..<300).contains(size))
        }
    }

    @Test func aNodeWithoutShardLogsIsLeftAlone() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rill-damage-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try SegmentDamage.apply(.bitflip, salt: 1, dataDirectory: root) == nil)
    }
}
