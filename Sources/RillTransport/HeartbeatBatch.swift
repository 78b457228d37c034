import RillModel
import RillRaft

/// The heartbeats and heartbeat answers of many groups between one pair of nodes, sent as one compact
/// `heartbeats` frame (CockroachDB's coalesced heartbeats). A heartbeat says only "I still lead `group` in
/// `term`, and `commit` is committed": with hundreds of groups per node pair, repeating full Raft messages,
/// each with its stream id, per group per round is most of the idle traffic.
///
/// The batch is a pure value: `HeartbeatCoalescer` builds it from outbound messages, `messages` fans it out
/// again into the Raft messages the groups step, unchanged.
public struct HeartbeatBatch: Sendable, Equatable {
    /// The sending node: every beat's `Raft.Message.from`.
    public var from: NodeID
    /// The receiving node: every beat's `Raft.Message.to`.
    public var to: NodeID
    /// In the order the groups sent them, so two beats of one group keep their order.
    public var beats: [Beat]

    public init(from: NodeID, to: NodeID, beats: [Beat]) {
        self.from = from
        self.to = to
        self.beats = beats
    }

    /// One group's heartbeat or answer.
    public struct Beat: Sendable, Equatable {
        public var group: RaftGroupID
        public var term: Term
        public var kind: Kind

        public init(group: RaftGroupID, term: Term, kind: Kind) {
            self.group = group
            self.term = term
            self.kind = kind
        }
    }

    /// The two message bodies a beat stands for.
    public enum Kind: Sendable, Equatable {
        /// `Raft.Body.heartbeat(commit:)`.
        case heartbeat(commit: LogIndex)
        /// `Raft.Body.heartbeatResponse`.
        case response
    }

    /// The Raft messages the batch stands for, in order: exactly what the sender's groups handed over.
    public var messages: [GroupMessage] {
        beats.map { beat in
            let body: Raft.Body
            switch beat.kind {
            case .heartbeat(let commit): body = .heartbeat(commit: commit)
            case .response: body = .heartbeatResponse
            }
            let message = Raft.Message(from: from, to: to, term: beat.term, body: body)
            return GroupMessage(group: beat.group, message: message)
        }
    }
}

extension GroupMessage {
    /// The beat this message can travel as, or nil when it is anything but a heartbeat or its answer.
    var beat: HeartbeatBatch.Beat? {
        let kind: HeartbeatBatch.Kind
        switch message.body {
        case .heartbeat(let commit): kind = .heartbeat(commit: commit)
        case .heartbeatResponse: kind = .response
        default: return nil
        }
        return HeartbeatBatch.Beat(group: group, term: message.term, kind: kind)
    }
}
