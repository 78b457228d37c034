import RillModel
import RillRaft

/// One unit on a node-to-node connection. Pure values: the wire form lives in `PeerFrame+Wire.swift`,
/// which documents the byte layout.
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

    /// The connecting side's identity, checked by the acceptor.
    public struct Hello: Sendable, Equatable {
        /// The cluster UUID from node.json: a node of another cluster is refused.
        public var clusterID: String
        public var nodeID: NodeID
        /// Bumped by the sender on every process start, so a receiver can tell a restarted peer.
        public var generation: UInt64
        public var channel: PeerChannelKind

        public init(clusterID: String, nodeID: NodeID, generation: UInt64, channel: PeerChannelKind) {
            self.clusterID = clusterID
            self.nodeID = nodeID
            self.generation = generation
            self.channel = channel
        }
    }
}

/// What a connection carries. Raft and RPC use separate connections so a large request never delays a heartbeat.
public enum PeerChannelKind: UInt8, Sendable, Equatable, CaseIterable {
    case raft = 1
    case rpc = 2
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
