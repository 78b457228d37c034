import NIOSSL

/// Tunables of a `PeerTransport`. Defaults suit a LAN cluster; tests shorten the timeouts.
public struct TransportSettings: Sendable {
    /// How long a TCP connect may take before the peer counts as unreachable.
    public var connectTimeout: Duration = .seconds(1)
    /// How long data this node sent on a peer connection it dialled may stay unacknowledged by the peer's kernel
    /// before the kernel closes the connection (`TCP_USER_TIMEOUT`, Linux). A peer cut off in the network (its
    /// packets dropped, the link down) acknowledges nothing, and without it a forwarded call waited out its call
    /// timeout on the dead connection, and a Raft connection sat in TCP's retransmission backoff, seconds long,
    /// after the cut healed. A live peer's kernel acknowledges within a round trip even when its process is slow.
    /// Nil: the kernel's default (about 15 minutes of retransmissions).
    public var unacknowledgedTimeout: Duration? = .seconds(1)
    /// How long the acceptor may take to answer `hello`.
    public var handshakeTimeout: Duration = .seconds(2)
    /// The first delay before reconnecting after a failed connect; doubles per failure up to `maximumBackoff`.
    public var initialBackoff: Duration = .milliseconds(50)
    public var maximumBackoff: Duration = .seconds(2)
    /// Raft messages waiting per peer; past it new messages are dropped and counted (Raft retransmits).
    public var maximumQueuedMessages: Int = 8192
    /// Bytes of Raft messages waiting per peer (estimated), the other bound of the same queue.
    public var maximumQueuedBytes: Int = 64 * 1024 * 1024
    /// Target size of one `.raft` frame (ARCHITECTURE.md: frames ≤ 1 MiB); a single larger message goes alone.
    public var maximumRaftFrameBytes: Int = 1024 * 1024
    /// How long a heartbeat or heartbeat answer waits for those of other groups to the same peer before they
    /// leave together as one `heartbeats` frame. Far below a heartbeat interval; zero sends them with the next
    /// drain, still coalesced with whatever else is queued.
    public var heartbeatCoalescingDelay: Duration = .milliseconds(10)
    /// Enables the fault hooks of `PeerTransport+Faults.swift`; when false, setting a fault throws.
    public var faultInjection: Bool = false
    /// Seeds the generator behind drop probabilities, so a chaos run replays.
    public var faultSeed: UInt64 = 0x5EED
    /// The cluster secret (`--cluster-secret-file`): when set, every hello this node sends proves it holds it
    /// (`HelloProof`), and a hello that does not is refused, so only members and routers given the secret
    /// reach the peer port's calls. Nil: any hello of this cluster's id is accepted, as before.
    public var clusterSecret: [UInt8]? = nil
    /// Mutual TLS on every peer connection (`--peer-ca`, `--peer-cert`, `--peer-key`): accepted connections must
    /// present a certificate from the cluster CA, and dialled ones check the acceptor's. Nil: plaintext.
    public var tls: PeerTLSContexts? = nil

    public init() {}
}

/// Counters since the transport started. Frames and bytes count everything on the wire, handshakes included.
public struct TransportStats: Sendable, Equatable {
    public var framesSent: Int
    public var framesReceived: Int
    public var bytesSent: Int
    public var bytesReceived: Int
    /// Outbound connections established after the first one to the same peer.
    public var reconnects: Int
    /// Raft messages dropped because a peer's queue was full.
    public var droppedQueueFull: Int
    /// Raft messages and requests dropped by injected faults (isolation or drop probability).
    public var droppedByFault: Int
    /// Inbound connections refused at the handshake (wrong cluster or protocol).
    public var refusedHandshakes: Int

    /// All dropped Raft messages.
    public var dropped: Int { droppedQueueFull + droppedByFault }
}

/// The two TLS contexts of a peer transport: one it accepts with, one it dials with. Both present this process's
/// certificate and demand the other end's (RillTLS `PeerTLS` builds them).
public struct PeerTLSContexts: Sendable {
    public var server: NIOSSLContext
    public var client: NIOSSLContext

    public init(server: NIOSSLContext, client: NIOSSLContext) {
        self.server = server
        self.client = client
    }
}
