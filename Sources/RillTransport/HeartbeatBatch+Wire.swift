import NIOCore
import RillModel

// The body of a `heartbeats` frame (kind 7; the frame layout is on `PeerFrame`):
//
//     heartbeats := u64 from | u64 to | varint nStreams | nStreams × string | varint count | count × beat
//     beat       := u8 kind (1 heartbeat, 2 response)
//                   varint stream          -- 0 the metadata group, n a shard of the n-th stream of the table
//                   varint shardIndex      -- only when stream > 0
//                   varint term
//                   varint commit          -- only for a heartbeat
//     varint     := unsigned LEB128, at most 10 bytes, nothing beyond 64 bits
//
// Stream ids (24 characters) are shared by every shard of a stream, so they are written once per frame.
// Terms, indexes and shard numbers are small, so varints make a typical beat 5 to 8 bytes where the same
// heartbeat as a `raft` message is 42 bytes plus its stream id.

extension HeartbeatBatch {
    /// The least a beat takes on the wire (kind, stream 0, term): bounds a hostile count.
    static let minimumBeatBytes = 3

    func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(from.rawValue)
        buffer.writeInteger(to.rawValue)
        var streams: [String] = []
        var references: [String: UInt64] = [:]
        for beat in beats {
            guard case .shard(let streamID, _) = beat.group, references[streamID] == nil else { continue }
            streams.append(streamID)
            references[streamID] = UInt64(streams.count)
        }
        buffer.writeVarint(UInt64(streams.count))
        for stream in streams { buffer.writeWireString(stream) }
        buffer.writeVarint(UInt64(beats.count))
        for beat in beats {
            switch beat.kind {
            case .heartbeat: buffer.writeInteger(UInt8(1))
            case .response: buffer.writeInteger(UInt8(2))
            }
            switch beat.group {
            case .meta:
                buffer.writeVarint(0)
            case .shard(let streamID, let shard):
                buffer.writeVarint(references[streamID] ?? 0)
                buffer.writeVarint(UInt64(shard.index))
            }
            buffer.writeVarint(beat.term.rawValue)
            if case .heartbeat(let commit) = beat.kind { buffer.writeVarint(commit.rawValue) }
        }
    }

    /// An upper bound of the encoded size of one beat of `group`, plus its stream's table entry when `newStream`.
    static func wireSizeEstimate(ofBeatIn group: RaftGroupID, newStream: Bool) -> Int {
        guard case .shard(let streamID, _) = group else { return 22 }
        return 36 + (newStream ? 4 + streamID.utf8.count : 0)
    }

    static func read(from body: inout ByteBuffer) throws(PeerFrameError) -> HeartbeatBatch {
        let from = NodeID(try body.readWire(UInt64.self))
        let to = NodeID(try body.readWire(UInt64.self))
        let streamCount = try body.readVarint()
        // Every string takes at least its 4-byte length: a hostile count fails here instead of looping.
        guard streamCount <= UInt64(body.readableBytes / 4) else { throw .truncated }
        var streams: [String] = []
        streams.reserveCapacity(Int(streamCount))
        for _ in 0..<streamCount { streams.append(try body.readWireString()) }
        let count = try body.readVarint()
        guard count <= UInt64(body.readableBytes / minimumBeatBytes) else { throw .truncated }
        var beats: [Beat] = []
        beats.reserveCapacity(Int(count))
        for _ in 0..<count {
            let kindTag: UInt8 = try body.readWire()
            guard kindTag == 1 || kindTag == 2 else { throw .unknownTag(what: "beat kind", tag: kindTag) }
            let reference = try body.readVarint()
            let group: RaftGroupID
            if reference == 0 {
                group = .meta
            } else {
                guard reference <= UInt64(streams.count) else {
                    throw .valueOutOfRange(what: "stream reference", value: reference)
                }
                let index = try body.readVarint()
                guard let shardIndex = UInt32(exactly: index) else {
                    throw .valueOutOfRange(what: "shard index", value: index)
                }
                group = .shard(streamID: streams[Int(reference) - 1], shard: ShardID(index: shardIndex))
            }
            let term = Term(try body.readVarint())
            let kind: Kind
            if kindTag == 1 {
                let commit = try body.readVarint()
                guard commit <= UInt64(Int64.max) else { throw .indexOutOfRange(commit) }
                kind = .heartbeat(commit: LogIndex(commit))
            } else {
                kind = .response
            }
            beats.append(Beat(group: group, term: term, kind: kind))
        }
        return HeartbeatBatch(from: from, to: to, beats: beats)
    }
}

// MARK: - Varints

extension ByteBuffer {
    mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        writeInteger(UInt8(rest))
    }

    /// Reads an unsigned LEB128 value; a value running past the frame or past 64 bits is an error.
    mutating func readVarint() throws(PeerFrameError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte: UInt8 = try readWire()
            // The tenth byte holds bit 63 only: anything more would not fit.
            guard shift < 63 || byte <= 1 else { throw .malformedVarint }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }
}
