import RillModel
import Synchronization

/// The durable part of one Raft group's state: what it must not forget across a crash.
public struct GroupHardState: Sendable, Equatable {
    public var term: Term
    public var vote: NodeID?
    public var commit: LogIndex
    /// The highest index this replica's log is known to hold durably; a log that recovers shorter than this
    /// is damaged (ARCHITECTURE "Durability rules").
    public var durableIndex: LogIndex

    public init(term: Term, vote: NodeID?, commit: LogIndex, durableIndex: LogIndex) {
        self.term = term
        self.vote = vote
        self.commit = commit
        self.durableIndex = durableIndex
    }
}

/// `raftstate.log`: term, vote, commit and durable index of every Raft group on this node, in one
/// append-only, CRC'd file, so a failover of many groups costs one fsync per flush round instead of two
/// per group (ARCHITECTURE "Durability rules"). The latest record of a group wins; the file is compacted by
/// rewriting it (temp file, fsync, rename, fsync directory) with one record per live group.
///
/// Format (little-endian): header `"RILLRST"` + version u8 = 1, then records of
/// `length u32 | crc32c u32 (of the body) | body`, where body is
/// `op u8 (1 set, 2 forget) | group | term u64 | vote u64 (0 = none) | commit u64 | durableIndex u64`
/// and group is `kind u8 (0 meta, 1 shard) | [idLength u16 | stream id | shard index u32]`.
///
/// Recovery: a short or CRC-bad last record with nothing valid after it is a torn tail and is cut; a bad
/// record followed by a valid one is damage — the states before it are kept and the report says so.
public final class RaftStateLog: Sendable {
    private struct State {
        var file: any StorageFile
        var size: Int64
        var current: [RaftGroupID: GroupHardState]
        var dirty = false
    }
    private let state: Mutex<State>
    public let path: String
    public let recovery: RecoveryReport
    /// Past this size, the next sync rewrites the file with one record per group.
    public let compactionBytes: Int64
    /// Where the file lives: the disk, or the simulation's.
    private let fileSystem: any FileSystem

    static let header: [UInt8] = Array("RILLRST".utf8) + [1]

    private init(
        path: String,
        file: any StorageFile,
        size: Int64,
        states: [RaftGroupID: GroupHardState],
        recovery: RecoveryReport,
        compactionBytes: Int64,
        fileSystem: any FileSystem
    ) {
        self.path = path
        self.fileSystem = fileSystem
        self.state = Mutex(State(file: file, size: size, current: states))
        self.recovery = recovery
        self.compactionBytes = compactionBytes
    }

    /// Opens (creating if absent, and fsyncing its directory) and recovers the file at `path`.
    public static func open(
        path: String,
        compactionBytes: Int64 = 4 << 20,
        fileSystem: any FileSystem = PosixFileSystem()
    ) throws(StorageError) -> RaftStateLog {
        if !fileSystem.exists(path) {
            try AtomicFile.write(path: path, bytes: header, fileSystem: fileSystem)
        }
        let file = try fileSystem.open(path: path)
        let bytes = try file.read(count: Int(try file.size()), at: 0)
        guard bytes.count >= header.count, Array(bytes.prefix(header.count)) == header else {
            throw .corrupt(path: path, reason: "not a raftstate log (bad header)")
        }
        var states: [RaftGroupID: GroupHardState] = [:]
        var offset = header.count
        var recovery = RecoveryReport.clean
        while offset < bytes.count {
            guard let (record, length) = Record.decode(bytes, at: offset) else {
                // Damage, unless nothing valid follows (a torn tail).
                if Record.anyValid(bytes, after: offset) {
                    recovery = .damaged(reason: "bad raftstate record at byte \(offset)", lastGoodIndex: .zero)
                } else {
                    recovery = .truncatedTornTail(bytes: Int64(bytes.count - offset))
                }
                try file.truncate(to: Int64(offset))
                try file.sync()
                break
            }
            switch record.op {
            case .set: states[record.group] = record.state
            case .forget: states.removeValue(forKey: record.group)
            }
            offset += length
        }
        return RaftStateLog(
            path: path,
            file: file,
            size: Int64(min(offset, bytes.count)),
            states: states,
            recovery: recovery,
            compactionBytes: compactionBytes,
            fileSystem: fileSystem
        )
    }

    /// Every group's last recorded state.
    public var states: [RaftGroupID: GroupHardState] { state.withLock { $0.current } }

    /// Appends new states (page cache only; durable after `sync`, usually through a flush round).
    public func record(_ updates: [(group: RaftGroupID, state: GroupHardState)]) throws(StorageError) {
        guard !updates.isEmpty else { return }
        var bytes: [UInt8] = []
        for update in updates { Record(op: .set, group: update.group, state: update.state).encode(into: &bytes) }
        try state.withLock { (state) throws(StorageError) in
            try state.file.write(bytes, at: state.size)
            state.size += Int64(bytes.count)
            for update in updates { state.current[update.group] = update.state }
            state.dirty = true
        }
    }

    /// Drops a group (its replica was removed from this node).
    public func forget(_ group: RaftGroupID) throws(StorageError) {
        var bytes: [UInt8] = []
        Record(
            op: .forget,
            group: group,
            state: GroupHardState(term: .zero, vote: nil, commit: .zero, durableIndex: .zero)
        )
        .encode(into: &bytes)
        try state.withLock { (state) throws(StorageError) in
            try state.file.write(bytes, at: state.size)
            state.size += Int64(bytes.count)
            state.current.removeValue(forKey: group)
            state.dirty = true
        }
    }

    /// Makes every recorded state durable, compacting first when the file has grown past its threshold.
    public func sync() throws(StorageError) {
        let compactionBytes = self.compactionBytes
        let path = self.path
        let fileSystem = self.fileSystem
        try state.withLock { (state) throws(StorageError) in
            guard state.dirty else { return }
            if state.size > compactionBytes {
                var bytes = Self.header
                for (group, hard) in state.current.sorted(by: { $0.key < $1.key }) {
                    Record(op: .set, group: group, state: hard).encode(into: &bytes)
                }
                // The rewrite is durable (file and directory synced) before it replaces the old file.
                try AtomicFile.write(path: path, bytes: bytes, fileSystem: fileSystem)
                state.file = try fileSystem.open(path: path)
                state.size = Int64(bytes.count)
            } else {
                try state.file.sync()
            }
            state.dirty = false
        }
    }

    /// The file's current length, for metrics and tests.
    public var byteSize: Int64 { state.withLock { $0.size } }
}

extension RaftStateLog: DurableFile {
    public var location: String { path }
}

/// One raftstate record.
private struct Record {
    enum Op: UInt8 {
        case set = 1
        case forget = 2
    }
    var op: Op
    var group: RaftGroupID
    var state: GroupHardState

    func encode(into bytes: inout [UInt8]) {
        var body: [UInt8] = [op.rawValue]
        switch group {
        case .meta: body.append(0)
        case .shard(let streamID, let shard):
            body.append(1)
            let id = Array(streamID.utf8.prefix(Int(UInt16.max)))
            body.append(UInt8(id.count & 0xFF))
            body.append(UInt8(id.count >> 8))
            body += id
            body.appendLE(UInt32(shard.index))
        }
        body.appendLE(state.term.rawValue)
        body.appendLE(state.vote?.rawValue ?? 0)
        body.appendLE(state.commit.rawValue)
        body.appendLE(state.durableIndex.rawValue)
        bytes.appendLE(UInt32(body.count))
        bytes.appendLE(CRC32C.checksum(body))
        bytes += body
    }

    /// The record at `offset` and its total length, or nil if it is short, garbled or fails its CRC.
    static func decode(_ bytes: [UInt8], at offset: Int) -> (Record, Int)? {
        guard offset + 8 <= bytes.count else { return nil }
        let length = Int(bytes.withUnsafeBytes { $0.u32(at: offset) })
        let crc = bytes.withUnsafeBytes { $0.u32(at: offset + 4) }
        guard length >= 34, length <= 1 << 20, offset + 8 + length <= bytes.count else { return nil }
        let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
        guard CRC32C.checksum(body) == crc, let op = Op(rawValue: body[0]) else { return nil }
        var cursor = 2
        let group: RaftGroupID
        switch body[1] {
        case 0: group = .meta
        case 1:
            guard body.count >= cursor + 2 else { return nil }
            let idLength = Int(body[cursor]) | Int(body[cursor + 1]) << 8
            cursor += 2
            guard body.count >= cursor + idLength + 4 + 32 else { return nil }
            let id = String(decoding: body[cursor..<(cursor + idLength)], as: UTF8.self)
            cursor += idLength
            let shard = body.withUnsafeBytes { $0.u32(at: cursor) }
            cursor += 4
            group = .shard(streamID: id, shard: ShardID(index: shard))
        default: return nil
        }
        guard body.count == cursor + 32 else { return nil }
        let (term, vote, commit, durable) = body.withUnsafeBytes {
            ($0.u64(at: cursor), $0.u64(at: cursor + 8), $0.u64(at: cursor + 16), $0.u64(at: cursor + 24))
        }
        let state = GroupHardState(
            term: Term(term),
            vote: vote == 0 ? nil : NodeID(vote),
            commit: LogIndex(commit),
            durableIndex: LogIndex(durable)
        )
        return (Record(op: op, group: group, state: state), 8 + length)
    }

    /// Whether any valid record starts after `offset`: what tells damage from a torn tail.
    static func anyValid(_ bytes: [UInt8], after offset: Int) -> Bool {
        var position = offset + 1
        while position + 8 <= bytes.count {
            if decode(bytes, at: position) != nil { return true }
            position += 1
        }
        return false
    }
}
