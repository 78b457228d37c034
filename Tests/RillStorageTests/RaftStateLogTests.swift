import Foundation
import RillModel
import RillStorage
import Testing

@Suite struct RaftStateLogTests {
    func temporaryPath() -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rill-raftstate-\(UUID().uuidString)"
        ).path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory + "/raftstate.log"
    }

    let shard = RaftGroupID.shard(streamID: "abcdefghij0123456789-xyz", shard: ShardID(index: 3))

    func state(_ term: UInt64, vote: UInt64? = nil, commit: UInt64 = 0) -> GroupHardState {
        GroupHardState(
            term: Term(term),
            vote: vote.map { NodeID($0) },
            commit: LogIndex(commit),
            durableIndex: LogIndex(commit)
        )
    }

    @Test("the latest state of each group survives reopening; forgotten groups stay gone")
    func roundTrip() throws {
        let path = temporaryPath()
        let log = try RaftStateLog.open(path: path)
        try log.record([(.meta, state(1, vote: 1)), (shard, state(2, vote: 3, commit: 9))])
        try log.record([(.meta, state(4, vote: 2, commit: 5))])
        try log.record([(.shard(streamID: "other", shard: ShardID(index: 0)), state(1))])
        try log.forget(.shard(streamID: "other", shard: ShardID(index: 0)))
        try log.sync()
        let reopened = try RaftStateLog.open(path: path)
        #expect(reopened.recovery == .clean)
        #expect(reopened.states == [.meta: state(4, vote: 2, commit: 5), shard: state(2, vote: 3, commit: 9)])
    }

    @Test("a record cut at any byte is a torn tail: the earlier states survive")
    func tornTail() throws {
        let path = temporaryPath()
        let log = try RaftStateLog.open(path: path)
        try log.record([(.meta, state(1, vote: 1))])
        try log.sync()
        let before = log.byteSize
        try log.record([(shard, state(7, vote: 2))])
        try log.sync()
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        for cut in Int(before)..<full.count {
            try full.prefix(cut).write(to: URL(fileURLWithPath: path))
            let reopened = try RaftStateLog.open(path: path)
            #expect(reopened.states == [.meta: state(1, vote: 1)])
            if cut > Int(before) { #expect(reopened.recovery == .truncatedTornTail(bytes: Int64(cut) - before)) }
        }
    }

    @Test("a bad record followed by a good one is damage, not a torn tail")
    func damage() throws {
        let path = temporaryPath()
        let log = try RaftStateLog.open(path: path)
        try log.record([(.meta, state(1))])
        try log.record([(shard, state(2))])
        try log.record([(.meta, state(3))])
        try log.sync()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[8 + 8 + 3] ^= 0xFF  // inside the first record's body
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reopened = try RaftStateLog.open(path: path)
        guard case .damaged = reopened.recovery else {
            Issue.record("expected damage, got \(reopened.recovery)")
            return
        }
        #expect(reopened.states.isEmpty)
    }

    @Test("compaction rewrites one record per group and keeps every state")
    func compaction() throws {
        let path = temporaryPath()
        let log = try RaftStateLog.open(path: path, compactionBytes: 2048)
        for term in 1...200 {
            try log.record([(.meta, state(UInt64(term), vote: 1)), (shard, state(UInt64(term) * 2))])
        }
        try log.sync()
        #expect(log.byteSize < 2048)
        let reopened = try RaftStateLog.open(path: path)
        #expect(reopened.states == [.meta: state(200, vote: 1), shard: state(400)])
    }

    @Test("a file that is not a raftstate log is refused, not misread")
    func foreignFile() throws {
        let path = temporaryPath()
        try Data("hello world".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: StorageError.self) { try RaftStateLog.open(path: path) }
    }
}
