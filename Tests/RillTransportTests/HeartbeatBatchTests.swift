import NIOCore
import RillModel
import RillRaft
import RillTransport
import Testing

/// A batch with the metadata group, shards of two streams and the largest values each field may hold.
let sampleBatch = HeartbeatBatch(
    from: NodeID(1),
    to: NodeID(.max),
    beats: [
        .init(group: .meta, term: Term(3), kind: .heartbeat(commit: LogIndex(17))),
        .init(group: .shard(streamID: "orders-ü", shard: ShardID(index: 0)), term: Term(1), kind: .response),
        .init(
            group: .shard(streamID: "clicks", shard: ShardID(index: .max)),
            term: Term(.max),
            kind: .heartbeat(commit: LogIndex(UInt64(Int64.max)))
        ),
        .init(
            group: .shard(streamID: "orders-ü", shard: ShardID(index: 300)),
            term: Term(128),
            kind: .heartbeat(commit: .zero)
        ),
        .init(group: .meta, term: Term(3), kind: .response),
    ]
)

/// A `heartbeats` frame around `body` (from and to included in `body`).
func heartbeatsFrame(_ body: [UInt8]) -> [UInt8] {
    let length = body.count + 2
    return [UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        + [PeerProtocol.version, 7] + body
}

/// From node 1 to node 2.
let pairBytes: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]

@Suite struct HeartbeatBatchTests {
    @Test(arguments: [sampleBatch, HeartbeatBatch(from: NodeID(2), to: NodeID(3), beats: [])])
    func batchesRoundTrip(_ batch: HeartbeatBatch) throws {
        #expect(try PeerFrame(decoding: PeerFrame.heartbeats(batch).encoded) == .heartbeats(batch))
    }

    @Test(arguments: [0, 1, 127, 128, 16383, 16384, UInt64(UInt32.max), UInt64(Int64.max)])
    func varintBoundariesRoundTrip(_ value: UInt64) throws {
        let batch = HeartbeatBatch(
            from: NodeID(1),
            to: NodeID(2),
            beats: [.init(group: .meta, term: Term(value), kind: .heartbeat(commit: LogIndex(value)))]
        )
        #expect(try PeerFrame(decoding: PeerFrame.heartbeats(batch).encoded) == .heartbeats(batch))
    }

    @Test func fanOutGivesBackTheGroupsMessagesInOrder() {
        let messages = sampleBatch.messages
        #expect(messages.count == sampleBatch.beats.count)
        #expect(messages.allSatisfy { $0.message.from == NodeID(1) && $0.message.to == NodeID(.max) })
        #expect(messages[0].message.body == .heartbeat(commit: LogIndex(17)))
        #expect(messages[1].message.body == .heartbeatResponse)
        #expect(messages[2].group == .shard(streamID: "clicks", shard: ShardID(index: .max)))
        #expect(messages.map(\.message.term) == sampleBatch.beats.map(\.term))
    }

    @Test func aHeartbeatIsAFewBytesInsteadOfAFullMessage() {
        let stream = "0b7c9a52-3f61-4f3e-9a0e-6c1d2e4f5a6b"
        let messages = (0..<300).map { index in
            GroupMessage(
                group: .shard(streamID: stream, shard: ShardID(index: UInt32(index))),
                message: Raft.Message(
                    from: NodeID(1),
                    to: NodeID(2),
                    term: Term(4),
                    body: .heartbeat(commit: LogIndex(12))
                )
            )
        }
        let coalesced = HeartbeatCoalescer.frames(for: messages, maximumFrameBytes: 1 << 20)
        #expect(coalesced.count == 1)
        let coalescedBytes = coalesced.reduce(0) { $0 + $1.encoded.count }
        let separateBytes = PeerFrame.raft(messages).encoded.count
        // 6 bytes a beat (kind, stream, shard in 1-2, term, commit) against 42 plus the 36-byte stream id.
        #expect(coalescedBytes < 300 * 8 + 100)
        #expect(separateBytes > 300 * 70)
    }

    @Test func malformedBeatsAreTypedErrors() {
        // A stream table of one name, then one shard beat: kind, stream 1, shard 5, term 2, commit 9.
        let table: [UInt8] = [1, 0, 0, 0, 1, 0x61]
        let good = heartbeatsFrame(pairBytes + table + [1, 1, 1, 5, 2, 9])
        #expect(throws: Never.self) { try PeerFrame(decoding: good) }

        #expect(throws: PeerFrameError.unknownTag(what: "beat kind", tag: 3)) {
            try PeerFrame(decoding: heartbeatsFrame(pairBytes + table + [1, 3, 1, 5, 2, 9]))
        }
        #expect(throws: PeerFrameError.valueOutOfRange(what: "stream reference", value: 2)) {
            try PeerFrame(decoding: heartbeatsFrame(pairBytes + table + [1, 1, 2, 5, 2, 9]))
        }
        // Shard index 2^32.
        #expect(throws: PeerFrameError.valueOutOfRange(what: "shard index", value: 1 << 32)) {
            try PeerFrame(decoding: heartbeatsFrame(pairBytes + table + [1, 1, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 2, 9]))
        }
        // Commit 2^63.
        let bigCommit: [UInt8] = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]
        #expect(throws: PeerFrameError.indexOutOfRange(1 << 63)) {
            try PeerFrame(decoding: heartbeatsFrame(pairBytes + [0, 1, 1, 0, 2] + bigCommit))
        }
        // A varint with more than 64 bits: eleven continuation bytes, or a tenth byte above 1.
        let endless = [UInt8](repeating: 0xFF, count: 11)
        #expect(throws: PeerFrameError.malformedVarint) {
            try PeerFrame(decoding: heartbeatsFrame(pairBytes + [0, 1, 1, 0] + endless))
        }
        let tooWide: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]
        #expect(throws: PeerFrameError.malformedVarint) {
            try PeerFrame(decoding: heartbeatsFrame(pairBytes + [0, 1, 1, 0] + tooWide + [1]))
        }
        // Hostile counts with nothing behind them.
        #expect(throws: PeerFrameError.truncated) {
            try PeerFrame(decoding: heartbeatsFrame(pairBytes + [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]))
        }
        #expect(throws: PeerFrameError.truncated) {
            try PeerFrame(decoding: heartbeatsFrame(pairBytes + [0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]))
        }
        // Bytes after the last beat.
        #expect(throws: PeerFrameError.trailingBytes(1)) {
            try PeerFrame(decoding: heartbeatsFrame(pairBytes + table + [1, 1, 1, 5, 2, 9, 0]))
        }
    }

    @Test func aHeartbeatsFrameClaimingVersionOneIsRefused() {
        // Version 1 has no kind 7.
        var bytes = PeerFrame.heartbeats(sampleBatch).encoded
        bytes[4] = 1
        #expect(throws: PeerFrameError.unknownFrameKind(7)) { try PeerFrame(decoding: bytes) }
    }
}
