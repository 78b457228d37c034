import RillModel
import RillRaft

/// One unit on a node-to-node connection. The values are pure; `PeerFrame+Wire.swift` encodes them.
///
/// Wire layout of a peer frame. All integers are big-endian; nothing is padded.
///
///     frame    := u32 length           -- bytes after this field: 2 + body; at most PeerFrame.maximumLength
///                 u8  version          -- the version that introduced the kind (PeerProtocol): 2 for heartbeats,
///                                         1 for the rest
///                 u8  kind             -- 1 hello, 2 helloAck, 3 raft, 4 request, 5 response, 6 gossip,
///                                         7 heartbeats
///                 body
///     hello    := u8 channel (1 raft, 2 rpc, 3 gossip) | u64 nodeID | u64 generation | string clusterID
///     helloAck := u8 accepted (0/1) | string reason   -- accepted: "version N", the acceptor's version
///     raft     := u32 count | count × groupMessage
///     request  := u64 id | bytes payload
///     response := u64 id | bytes payload
///     gossip   := bytes payload          -- one SWIM message (RillGossip's own versioned codec)
///     heartbeats := see HeartbeatBatch+Wire.swift (since version 2)
///     string   := u32 n | n bytes UTF-8
///     bytes    := u32 n | n bytes
///
///     groupMessage := group | u64 from | u64 to | u64 term | u8 bodyTag | body
///     group        := u8 0 (meta) | u8 1 (shard) string streamID u32 shardIndex
///     body by tag:
///       1 appendEntries     u64 prevIndex | u64 prevTerm | u64 commit | u32 count | count × entry
///       2 appendResponse    u8 1 (accepted) u64 matchIndex | u8 2 (rejected) u64 index u64 hintIndex u64 hintTerm
///       3 heartbeat         u64 commit
///       4 heartbeatResponse (empty)
///       5 requestVote       u64 lastIndex | u64 lastTerm | u8 flags (bit 0 preVote, bit 1 transfer)
///       6 voteResponse      u8 flags (bit 0 granted, bit 1 preVote)
///       7 timeoutNow        (empty)
///       8 installSnapshot   u64 index | u64 term | u32 nv nv × u64 voter | u32 nl nl × u64 learner | bytes state
///     entry := u64 term | u64 index | u8 kind (EntryKind raw value) | i64 timestampMillis | bytes payload
///
/// Log indexes above `Int64.max` are refused (`LogIndex` strides in `Int64`). Unknown tags, unknown flag bits,
/// lengths past the end of the frame and bytes left over after the body are all errors: a frame decodes exactly
/// or not at all, and the decoder throws `PeerFrameError` rather than trapping.
public enum PeerFrame: Sendable, Equatable {
    /// The first frame the connecting side sends: who it is and which channel this connection is.
    case hello(Hello)
    /// The acceptor's answer to `hello`; a refused connection is closed right after.
    case helloAck(accepted: Bool, reason: String)
    /// A batch of Raft messages of any groups (the connection is multiplexed).
    case raft([GroupMessage])
    /// An internal RPC; the peer answers with a `response` carrying the same `id`.
    case request(id: UInt64, payload: [UInt8])
    /// The answer to `request(id:)`.
    case response(id: UInt64, payload: [UInt8])
    /// One membership message, fire and forget; either side of a gossip connection may send it.
    case gossip([UInt8])
    /// Heartbeats and heartbeat answers of many groups, coalesced (on the Raft connection, like `raft`).
    case heartbeats(HeartbeatBatch)

    /// The connecting side's identity, checked by the acceptor.
    public struct Hello: Sendable, Equatable {
        /// The cluster UUID from node.json: a node of another cluster is refused.
        public var clusterID: String
        public var nodeID: NodeID
        /// Bumped by the sender on every process start, so a receiver can tell a restarted peer.
        public var generation: UInt64
        public var channel: PeerChannelKind
        /// That the sender holds the cluster secret; nil from a node given none. Sent after the other fields,
        /// so a node that reads no proof (an older version, which has no secret either) is not sent one.
        public var proof: HelloProof?

        public init(
            clusterID: String,
            nodeID: NodeID,
            generation: UInt64,
            channel: PeerChannelKind,
            proof: HelloProof? = nil
        ) {
            self.clusterID = clusterID
            self.nodeID = nodeID
            self.generation = generation
            self.channel = channel
            self.proof = proof
        }
    }
}

/// What a connection carries. Raft, RPC and gossip use separate connections so a large request never delays a
/// heartbeat or a probe.
public enum PeerChannelKind: UInt8, Sendable, Equatable, CaseIterable {
    case raft = 1
    case rpc = 2
    case gossip = 3
}

/// A Raft message addressed to one group; the transport multiplexes all groups over one connection.
public struct GroupMessage: Sendable, Equatable {
    public var group: RaftGroupID
    public var message: Raft.Message

    public init(group: RaftGroupID, message: Raft.Message) {
        self.group = group
        self.message = message
    }

    /// Appends and snapshots are bulk; votes, heartbeats and responses are small and latency-sensitive, so the
    /// transport lets them jump ahead of queued bulk messages (ARCHITECTURE.md "Data plane transport").
    public var isBulk: Bool {
        switch message.body {
        case .appendEntries, .installSnapshot: true
        default: false
        }
    }
}
