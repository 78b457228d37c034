import NIOCore
import NIOTestUtils
import RillModel
import RillRaft
import RillTransport
import Testing

/// One message of every body, with entries of every kind, payloads and a snapshot.
let everyMessage: [GroupMessage] = {
    let a = NodeID(1)
    let b = NodeID(2)
    let shard = RaftGroupID.shard(streamID: "orders-ü", shard: ShardID(index: 7))
    let entries = EntryKind.allCases.enumerated().map { offset, kind in
        LogEntry(
            term: Term(3),
            index: LogIndex(UInt64(10 + offset)),
            kind: kind,
            timestampMillis: offset == 0 ? -5 : 1_700_000_000_000 + Int64(offset),
            payload: (0..<(offset * 37)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        )
    }
    let snapshot = Raft.Snapshot(
        index: LogIndex(99),
        term: Term(4),
        configuration: Raft.Configuration(voters: [a, b, NodeID(3)], learners: [NodeID(9)]),
        state: Array(repeating: 0xAB, count: 300)
    )
    let bodies: [Raft.Body] = [
        .appendEntries(prevIndex: LogIndex(9), prevTerm: Term(2), entries: entries, commit: LogIndex(8)),
        .appendEntries(prevIndex: .zero, prevTerm: .zero, entries: [], commit: .zero),
        .appendResponse(.accepted(matchIndex: LogIndex(15))),
        .appendResponse(.rejected(index: LogIndex(12), hintIndex: LogIndex(10), hintTerm: Term(2))),
        .heartbeat(commit: LogIndex(UInt64(Int64.max))),
        .heartbeatResponse,
        .requestVote(lastIndex: LogIndex(5), lastTerm: Term(1), preVote: true, transfer: false),
        .requestVote(lastIndex: LogIndex(5), lastTerm: Term(1), preVote: false, transfer: true),
        .voteResponse(granted: true, preVote: false),
        .voteResponse(granted: false, preVote: true),
        .timeoutNow,
        .installSnapshot(snapshot),
    ]
    return bodies.enumerated().map { offset, body in
        GroupMessage(
            group: offset.isMultiple(of: 2) ? .meta : shard,
            message: Raft.Message(from: a, to: b, term: Term(UInt64(offset) + 1), body: body)
        )
    }
}()

/// One frame of every kind.
let everyFrame: [PeerFrame] =
    [
        .hello(PeerFrame.Hello(clusterID: "c0ffee-uuid", nodeID: NodeID(42), generation: 7, channel: .raft)),
        .hello(PeerFrame.Hello(clusterID: "", nodeID: NodeID(.max), generation: .max, channel: .rpc)),
        .helloAck(accepted: true, reason: ""),
        .helloAck(accepted: false, reason: "cluster mismatch"),
        .raft(everyMessage),
        .raft([]),
        .request(id: 1, payload: [1, 2, 3]),
        .request(id: .max, payload: []),
        .response(id: 9, payload: Array(repeating: 7, count: 1000)),
        .hello(PeerFrame.Hello(clusterID: "c", nodeID: NodeID(5), generation: 1, channel: .gossip)),
        .gossip([1, 4, 0, 0]),
        .gossip([]),
        .heartbeats(sampleBatch),
        .heartbeats(HeartbeatBatch(from: NodeID(2), to: NodeID(1), beats: [])),
    ] + everyMessage.map { .raft([$0]) }

func buffer(_ bytes: [UInt8]) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
    buffer.writeBytes(bytes)
    return buffer
}

@Suite struct PeerFrameTests {
    @Test(arguments: everyFrame)
    func everyFrameRoundTrips(_ frame: PeerFrame) throws {
        let bytes = frame.encoded
        #expect(try PeerFrame(decoding: bytes) == frame)
        // The prefix counts exactly what follows it, and the version sits right after: the kind's own, so a
        // version-1 peer reads every frame but `heartbeats`.
        #expect(Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3]) == bytes.count - 4)
        #expect(bytes[4] == frame.protocolVersion)
        if case .heartbeats = frame { #expect(bytes[4] == 2) } else { #expect(bytes[4] == 1) }
    }

    @Test func decoderHandlesDripFeedAndCoalescedInput() throws {
        let pairs = everyFrame.map { (buffer($0.encoded), [$0]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { PeerFrameDecoder() }
    }

    @Test func everyTruncationIsAnErrorNotATrap() {
        for frame in everyFrame {
            let bytes = frame.encoded
            // Shorten the frame and its length prefix together: the body then runs past the frame's end.
            for length in 2..<(bytes.count - 4) {
                var cut = Array(bytes[0..<(4 + length)])
                cut[0] = UInt8(truncatingIfNeeded: length >> 24)
                cut[1] = UInt8(truncatingIfNeeded: length >> 16)
                cut[2] = UInt8(truncatingIfNeeded: length >> 8)
                cut[3] = UInt8(truncatingIfNeeded: length)
                #expect(throws: PeerFrameError.self) { try PeerFrame(decoding: cut) }
            }
            // An incomplete frame is not an error, just not there yet.
            var partial = buffer(Array(bytes.dropLast()))
            #expect((try? PeerFrame.read(from: &partial)) == .some(nil))
        }
    }

    @Test func wrongVersionUnknownKindAndHugeLengthAreTypedErrors() throws {
        var bytes = PeerFrame.request(id: 1, payload: [1]).encoded
        bytes[4] = PeerProtocol.version + 1
        #expect(throws: PeerFrameError.unsupportedVersion(PeerProtocol.version + 1)) { try PeerFrame(decoding: bytes) }
        bytes[4] = 0
        #expect(throws: PeerFrameError.unsupportedVersion(0)) { try PeerFrame(decoding: bytes) }
        // A newer version's header on an old kind is fine: a later version may write it so.
        bytes[4] = PeerProtocol.version
        #expect(try PeerFrame(decoding: bytes) == .request(id: 1, payload: [1]))
        bytes[5] = 99
        #expect(throws: PeerFrameError.unknownFrameKind(99)) { try PeerFrame(decoding: bytes) }
        // Refused from the prefix alone, before 4 GiB is buffered.
        var huge = buffer([0xFF, 0xFF, 0xFF, 0xFF, 1, 4])
        #expect(throws: PeerFrameError.frameTooLarge(length: 0xFFFF_FFFF)) { try PeerFrame.read(from: &huge) }
        var short = buffer([0, 0, 0, 1, 1])
        #expect(throws: PeerFrameError.frameTooShort(length: 1)) { try PeerFrame.read(from: &short) }
        var trailing = PeerFrame.heartbeatFrame.encoded
        trailing[3] += 1
        trailing.append(0)
        #expect(throws: PeerFrameError.trailingBytes(1)) { try PeerFrame(decoding: trailing) }
    }

    @Test func hostileCountsAndTagsAreErrors() {
        // A raft frame claiming 2^32-1 messages with nothing behind it.
        let manyMessages: [UInt8] = [0, 0, 0, 6, PeerProtocol.version, 3, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: PeerFrameError.truncated) { try PeerFrame(decoding: manyMessages) }
        // A hello whose channel byte names no channel.
        var hello = everyFrame[0].encoded
        hello[6] = 9
        #expect(throws: PeerFrameError.unknownTag(what: "channel", tag: 9)) { try PeerFrame(decoding: hello) }
        // A string that is not UTF-8.
        // A refusing helloAck whose reason is not UTF-8.
        let badString: [UInt8] = [0, 0, 0, 9, PeerProtocol.version, 2, 0, 0, 0, 0, 2, 0xC3, 0x28]
        #expect(throws: PeerFrameError.invalidUTF8) { try PeerFrame(decoding: badString) }
    }

    @Test func logIndexBeyondInt64IsRefused() {
        var bytes = PeerFrame.raft([
            GroupMessage(
                group: .meta,
                message: Raft.Message(from: NodeID(1), to: NodeID(2), term: Term(1), body: .heartbeat(commit: .zero))
            )
        ]).encoded
        // The commit index is the last 8 bytes of this frame.
        bytes[bytes.count - 8] = 0x80
        #expect(throws: PeerFrameError.indexOutOfRange(1 << 63)) { try PeerFrame(decoding: bytes) }
    }

    @Test func randomCorruptionNeverTraps() {
        var generator = TestGenerator(seed: 42)
        var errors = 0
        for round in 0..<3000 {
            var bytes = everyFrame[round % everyFrame.count].encoded
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let position = Int(generator.next() % UInt64(bytes.count))
                bytes[position] = UInt8(truncatingIfNeeded: generator.next())
            }
            var input = buffer(bytes)
            do {
                _ = try PeerFrame.read(from: &input)
            } catch {
                errors += 1
            }
        }
        #expect(errors > 0)
    }

    @Test func encoderWritesWhatTheDecoderReads() throws {
        var wire = ByteBufferAllocator().buffer(capacity: 0)
        for frame in everyFrame { try PeerFrameEncoder().encode(data: frame, out: &wire) }
        var decoded: [PeerFrame] = []
        while let frame = try PeerFrame.read(from: &wire) { decoded.append(frame) }
        #expect(decoded == everyFrame)
        #expect(wire.readableBytes == 0)
    }
}

extension PeerFrame {
    static let heartbeatFrame = PeerFrame.raft([
        GroupMessage(
            group: .meta,
            message: Raft.Message(from: NodeID(1), to: NodeID(2), term: Term(1), body: .heartbeatResponse)
        )
    ])
}

/// SplitMix64 for the tests' own randomness (the transport's generator is internal).
struct TestGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
