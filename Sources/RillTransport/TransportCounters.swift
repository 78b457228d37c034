import RillModel
import Synchronization

/// Lock-free counters shared by the transport and its connection handlers (on any event loop): totals, and
/// the same traffic split by peer (`PeerCounters`) for `/metrics`.
final class TransportCounters: Sendable {
    let framesSent = Atomic<Int>(0)
    let framesReceived = Atomic<Int>(0)
    let bytesSent = Atomic<Int>(0)
    let bytesReceived = Atomic<Int>(0)
    let reconnects = Atomic<Int>(0)
    let droppedQueueFull = Atomic<Int>(0)
    let droppedByFault = Atomic<Int>(0)
    let delayedByFault = Atomic<Int>(0)
    let refusedHandshakes = Atomic<Int>(0)
    /// Per-peer counters, made on first use. A connection or link looks its peer up once and keeps the
    /// reference, so the per-frame cost is the atomic adds alone, never this lock. Bounded by the peers
    /// this node ever talked to (entries are kept after a peer leaves, so its counters never go backwards).
    private let peers = Mutex<[NodeID: PeerCounters]>([:])

    /// The counters of `peer`, or nil for the unnamed peer (`NodeID(0)`: discovery calls and gossip to a
    /// seed address, before its node id is known), whose traffic counts in the totals only.
    func peer(_ peer: NodeID) -> PeerCounters? {
        guard peer != NodeID(0) else { return nil }
        return peers.withLock { table in
            if let existing = table[peer] { return existing }
            let made = PeerCounters()
            table[peer] = made
            return made
        }
    }

    /// `count` Raft messages to `peer` were dropped: its queue was full, or it had no address.
    func droppedQueueFull(_ count: Int, to peer: NodeID) {
        droppedQueueFull.add(count, ordering: .relaxed)
        self.peer(peer)?.droppedQueueFull.add(count, ordering: .relaxed)
    }

    /// `count` messages to or from `peer` fell to an injected fault.
    func droppedByFault(_ count: Int, peer: NodeID) {
        droppedByFault.add(count, ordering: .relaxed)
        self.peer(peer)?.droppedByFault.add(count, ordering: .relaxed)
    }

    /// A send to `peer` waits out an injected delay.
    func delayedByFault(to peer: NodeID) {
        delayedByFault.add(1, ordering: .relaxed)
        self.peer(peer)?.delayedByFault.add(1, ordering: .relaxed)
    }

    var snapshot: TransportStats {
        TransportStats(
            framesSent: framesSent.load(ordering: .relaxed),
            framesReceived: framesReceived.load(ordering: .relaxed),
            bytesSent: bytesSent.load(ordering: .relaxed),
            bytesReceived: bytesReceived.load(ordering: .relaxed),
            reconnects: reconnects.load(ordering: .relaxed),
            droppedQueueFull: droppedQueueFull.load(ordering: .relaxed),
            droppedByFault: droppedByFault.load(ordering: .relaxed),
            refusedHandshakes: refusedHandshakes.load(ordering: .relaxed)
        )
    }

    var peerSnapshot: [NodeID: PeerTraffic] {
        peers.withLock { $0 }.mapValues(\.snapshot)
    }
}

/// One peer's counters: traffic per connection kind, and what was dropped or delayed on the way to it.
final class PeerCounters: Sendable {
    let raft = LinkCounters()
    let rpc = LinkCounters()
    let gossip = LinkCounters()
    let reconnects = Atomic<Int>(0)
    /// Outbound Raft dials to this peer that failed (refused, timed out or refused at the handshake).
    let failedDials = Atomic<Int>(0)
    let droppedQueueFull = Atomic<Int>(0)
    let droppedByFault = Atomic<Int>(0)
    let delayedByFault = Atomic<Int>(0)
    /// Heartbeats and answers sent to this peer inside `heartbeats` frames, and those frames.
    let coalescedHeartbeats = Atomic<Int>(0)
    let heartbeatFrames = Atomic<Int>(0)

    func link(_ kind: PeerChannelKind) -> LinkCounters {
        switch kind {
        case .raft: raft
        case .rpc: rpc
        case .gossip: gossip
        }
    }

    var snapshot: PeerTraffic {
        PeerTraffic(
            channels: [.raft: raft.snapshot, .rpc: rpc.snapshot, .gossip: gossip.snapshot],
            reconnects: reconnects.load(ordering: .relaxed),
            failedDials: failedDials.load(ordering: .relaxed),
            droppedQueueFull: droppedQueueFull.load(ordering: .relaxed),
            droppedByFault: droppedByFault.load(ordering: .relaxed),
            delayedByFault: delayedByFault.load(ordering: .relaxed),
            coalescedHeartbeats: coalescedHeartbeats.load(ordering: .relaxed),
            heartbeatFrames: heartbeatFrames.load(ordering: .relaxed)
        )
    }
}

/// Frames and bytes of one kind of connection to and from one peer, both directions of dialling together.
final class LinkCounters: Sendable {
    let framesSent = Atomic<Int>(0)
    let framesReceived = Atomic<Int>(0)
    let bytesSent = Atomic<Int>(0)
    let bytesReceived = Atomic<Int>(0)

    var snapshot: LinkTraffic {
        LinkTraffic(
            framesSent: framesSent.load(ordering: .relaxed),
            framesReceived: framesReceived.load(ordering: .relaxed),
            bytesSent: bytesSent.load(ordering: .relaxed),
            bytesReceived: bytesReceived.load(ordering: .relaxed)
        )
    }
}

/// Counters since start of one kind of connection (`raft`, `rpc`, `gossip`) with one peer: what crossed the
/// wire on connections this node dialled and on those the peer dialled, handshakes included.
public struct LinkTraffic: Sendable, Equatable {
    public var framesSent = 0
    public var framesReceived = 0
    public var bytesSent = 0
    public var bytesReceived = 0

    public init(framesSent: Int = 0, framesReceived: Int = 0, bytesSent: Int = 0, bytesReceived: Int = 0) {
        self.framesSent = framesSent
        self.framesReceived = framesReceived
        self.bytesSent = bytesSent
        self.bytesReceived = bytesReceived
    }
}

/// Counters since start of the traffic with one peer (`PeerTransport.trafficByPeer`).
public struct PeerTraffic: Sendable, Equatable {
    public var channels: [PeerChannelKind: LinkTraffic]
    /// Outbound Raft connections established after the first one to this peer.
    public var reconnects: Int
    /// Outbound Raft dials to this peer that failed: while it is down, one per backoff.
    public var failedDials: Int
    /// Raft messages to this peer dropped because its queue was full (or it had no address).
    public var droppedQueueFull: Int
    /// Raft messages, requests and gossip to or from this peer dropped by injected faults.
    public var droppedByFault: Int
    /// Sends to this peer that waited out an injected delay.
    public var delayedByFault: Int
    /// Heartbeats and heartbeat answers (of all groups) sent to this peer coalesced into `heartbeats` frames.
    public var coalescedHeartbeats: Int
    /// The `heartbeats` frames that carried them: `coalescedHeartbeats / heartbeatFrames` beats per frame.
    public var heartbeatFrames: Int

    public init(
        channels: [PeerChannelKind: LinkTraffic] = [:],
        reconnects: Int = 0,
        failedDials: Int = 0,
        droppedQueueFull: Int = 0,
        droppedByFault: Int = 0,
        delayedByFault: Int = 0,
        coalescedHeartbeats: Int = 0,
        heartbeatFrames: Int = 0
    ) {
        self.channels = channels
        self.reconnects = reconnects
        self.failedDials = failedDials
        self.droppedQueueFull = droppedQueueFull
        self.droppedByFault = droppedByFault
        self.delayedByFault = delayedByFault
        self.coalescedHeartbeats = coalescedHeartbeats
        self.heartbeatFrames = heartbeatFrames
    }
}
