import RillModel

/// Packs the Raft messages leaving for one peer into frames, coalescing heartbeats (CockroachDB's coalesced
/// heartbeats): the heartbeats and answers of every group go as one compact `heartbeats` frame per node pair
/// instead of one full Raft message each. Pure, so the packing is tested without sockets; `RaftLink` calls it
/// on each flush.
///
/// Order on the wire: other control messages (votes, append answers), then the beats, then the bulk messages
/// (appends, snapshots), so beats keep their place ahead of bulk. Beats do not keep their order relative to
/// other control messages; Raft tolerates reordering, and each kind keeps its own order.
public enum HeartbeatCoalescer {
    /// The frames that carry `messages`: `raft` frames of about `maximumFrameBytes` (a larger message goes
    /// alone) and one `heartbeats` frame per sender and receiver pair, split only past `maximumFrameBytes`.
    /// Without `coalescingHeartbeats` (a peer of protocol version 1) heartbeats go as other control messages.
    public static func frames(
        for messages: [GroupMessage],
        maximumFrameBytes: Int,
        coalescingHeartbeats: Bool = true
    ) -> [PeerFrame] {
        var control: [GroupMessage] = []
        var bulk: [GroupMessage] = []
        var batches = BeatBatches(maximumFrameBytes: maximumFrameBytes)
        for message in messages {
            if coalescingHeartbeats, let beat = message.beat {
                batches.add(beat, from: message.message.from, to: message.message.to)
            } else if message.isBulk {
                bulk.append(message)
            } else {
                control.append(message)
            }
        }
        return pack(control, maximumFrameBytes: maximumFrameBytes) + batches.frames
            + pack(bulk, maximumFrameBytes: maximumFrameBytes)
    }

    /// Consecutive messages into `raft` frames of at most about `maximumFrameBytes` each.
    static func pack(_ messages: [GroupMessage], maximumFrameBytes: Int) -> [PeerFrame] {
        var frames: [PeerFrame] = []
        var frame: [GroupMessage] = []
        var frameBytes = 0
        for message in messages {
            let size = message.wireSizeEstimate
            if !frame.isEmpty && frameBytes + size > maximumFrameBytes {
                frames.append(.raft(frame))
                frame = []
                frameBytes = 0
            }
            frame.append(message)
            frameBytes += size
        }
        if !frame.isEmpty { frames.append(.raft(frame)) }
        return frames
    }
}

/// Beats gathered per (from, to) pair, in order of first appearance; a pair's batch is cut when it would pass
/// the frame size (only thousands of groups with long stream ids get there).
private struct BeatBatches {
    let maximumFrameBytes: Int
    private var batches: [HeartbeatBatch] = []
    private var open: [Pair: Open] = [:]

    private struct Pair: Hashable {
        var from: NodeID
        var to: NodeID
    }

    private struct Open {
        var index: Int
        var bytes: Int
        var streams: Set<String>
    }

    init(maximumFrameBytes: Int) {
        self.maximumFrameBytes = maximumFrameBytes
    }

    mutating func add(_ beat: HeartbeatBatch.Beat, from: NodeID, to: NodeID) {
        let pair = Pair(from: from, to: to)
        var stream: String?
        if case .shard(let streamID, _) = beat.group { stream = streamID }
        if var current = open[pair] {
            let newStream = stream.map { !current.streams.contains($0) } ?? false
            let size = HeartbeatBatch.wireSizeEstimate(ofBeatIn: beat.group, newStream: newStream)
            if current.bytes + size <= maximumFrameBytes {
                batches[current.index].beats.append(beat)
                current.bytes += size
                if let stream { current.streams.insert(stream) }
                open[pair] = current
                return
            }
        }
        batches.append(HeartbeatBatch(from: from, to: to, beats: [beat]))
        open[pair] = Open(
            index: batches.count - 1,
            bytes: 32 + HeartbeatBatch.wireSizeEstimate(ofBeatIn: beat.group, newStream: true),
            streams: stream.map { [$0] } ?? []
        )
    }

    var frames: [PeerFrame] { batches.map { .heartbeats($0) } }
}
