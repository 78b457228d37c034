import RillModel
import RillRaft
import RillTransport
import Testing

private let a = NodeID(1)
private let b = NodeID(2)

private func shard(_ index: Int, stream: String = "s") -> RaftGroupID {
    .shard(streamID: stream, shard: ShardID(index: UInt32(index)))
}

private func message(
    _ group: RaftGroupID,
    _ body: Raft.Body,
    term: UInt64 = 2,
    from: NodeID = a,
    to: NodeID = b
)
    -> GroupMessage
{
    GroupMessage(group: group, message: Raft.Message(from: from, to: to, term: Term(term), body: body))
}

/// What the receiver's groups step: frames fanned out, in wire order.
private func delivered(_ frames: [PeerFrame]) -> [GroupMessage] {
    frames.flatMap { frame -> [GroupMessage] in
        switch frame {
        case .raft(let messages): messages
        case .heartbeats(let batch): batch.messages
        default: []
        }
    }
}

@Suite struct HeartbeatCoalescerTests {
    @Test func manyGroupsHeartbeatsBecomeOneFrame() {
        let beats =
            (0..<500).map { index in
                index.isMultiple(of: 3)
                    ? message(shard(index, stream: "t"), .heartbeatResponse, term: UInt64(index))
                    : message(shard(index), .heartbeat(commit: LogIndex(UInt64(index))), term: UInt64(index))
            } + [message(.meta, .heartbeat(commit: LogIndex(4)))]
        let frames = HeartbeatCoalescer.frames(for: beats, maximumFrameBytes: 1 << 20)
        #expect(frames.count == 1)
        guard case .heartbeats(let batch) = frames.first else {
            Issue.record("expected a heartbeats frame, got \(frames)")
            return
        }
        #expect(batch.from == a && batch.to == b)
        #expect(batch.messages == beats)
    }

    @Test func controlThenBeatsThenBulk() {
        let entry = LogEntry(term: Term(2), index: LogIndex(5), kind: .records, timestampMillis: 1, payload: [1, 2])
        let append = message(
            shard(1),
            .appendEntries(prevIndex: LogIndex(4), prevTerm: Term(2), entries: [entry], commit: .zero)
        )
        let vote = message(
            .meta,
            .requestVote(lastIndex: LogIndex(5), lastTerm: Term(2), preVote: true, transfer: false)
        )
        let answer = message(shard(2), .appendResponse(.accepted(matchIndex: LogIndex(9))))
        let beat1 = message(shard(3), .heartbeat(commit: LogIndex(1)))
        let beat2 = message(shard(4), .heartbeatResponse)
        let frames = HeartbeatCoalescer.frames(for: [append, beat1, vote, beat2, answer], maximumFrameBytes: 1 << 20)
        #expect(frames.map(\.kindTag) == ["raft", "heartbeats", "raft"])
        #expect(delivered(frames) == [vote, answer, beat1, beat2, append])
    }

    @Test func eachNodePairGetsItsOwnBatch() {
        let c = NodeID(3)
        let messages = [
            message(shard(1), .heartbeat(commit: .zero)),
            message(shard(2), .heartbeat(commit: .zero), to: c),
            message(shard(3), .heartbeatResponse),
        ]
        let frames = HeartbeatCoalescer.frames(for: messages, maximumFrameBytes: 1 << 20)
        #expect(frames.count == 2)
        #expect(delivered(frames) == [messages[0], messages[2], messages[1]])
    }

    @Test func aBatchPastTheFrameSizeIsSplitInOrder() {
        let stream = String(repeating: "x", count: 100)
        let beats = (0..<200).map { message(shard($0, stream: "\(stream)\($0 % 20)"), .heartbeat(commit: LogIndex(7))) }
        let frames = HeartbeatCoalescer.frames(for: beats, maximumFrameBytes: 2048)
        #expect(frames.count > 1)
        #expect(frames.allSatisfy { $0.encoded.count <= 2048 + 64 })
        #expect(delivered(frames) == beats)
    }

    @Test func nothingInNothingOut() {
        #expect(HeartbeatCoalescer.frames(for: [], maximumFrameBytes: 1 << 20).isEmpty)
    }
}

extension PeerFrame {
    fileprivate var kindTag: String {
        switch self {
        case .raft: "raft"
        case .heartbeats: "heartbeats"
        default: "other"
        }
    }
}
