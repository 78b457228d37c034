import RillAPI
import RillCluster
import RillGossip
import RillKinesis
import RillModel
import RillTransport

/// How a router finds the cluster and where it listens (`rill router`).
public struct RouterSettings: Sendable {
    /// The router's member id in gossip and its node id on peer connections. Routers keep no state, so any id
    /// unused by a node will do; `rill router` draws one at random above the range nodes use.
    public var id: NodeID
    public var zone: Zone
    /// Where the router's peer listener (gossip only) binds.
    public var peerHost: String
    public var peerPort: Int
    /// HOST:PORT nodes dial to gossip with this router.
    public var advertisedPeer: String
    /// HOST:PORT of this router's Kinesis API, as `rill status` shows it.
    public var advertisedAPI: String
    /// Node peer addresses to find the cluster through.
    public var join: [String]
    /// How long one call may spend finding a leader (elections, redirects, dead nodes) before ServiceUnavailable.
    public var forwardDeadline: Duration = .seconds(4)
    /// How long a node may take to answer one forwarded call before the outcome counts as unknown.
    public var callTimeout: Duration = .seconds(5)
    public var gossip: SWIM.Settings = GossipDefaults.settings
    public var faultInjection = false
    /// When set, every request must be SigV4-signed by one of these keys. The router checks the signature
    /// (what it sends on to a node carries the signed region and the caller's key, not the signature); the
    /// node that serves the call authorizes that caller against its own copy of the same file.
    public var credentials: KeyRing?
    /// The cluster secret (`--cluster-secret-file`), proved in every hello to the nodes' peer ports.
    public var clusterSecret: [UInt8]? = nil
    /// Mutual TLS to the nodes' peer ports (`--peer-ca`, `--peer-cert`, `--peer-key`). Nil: plaintext.
    public var peerTLS: PeerTLSContexts? = nil

    public init(
        id: NodeID,
        zone: Zone,
        peerHost: String,
        peerPort: Int,
        advertisedPeer: String,
        advertisedAPI: String,
        join: [String]
    ) {
        self.id = id
        self.zone = zone
        self.peerHost = peerHost
        self.peerPort = peerPort
        self.advertisedPeer = advertisedPeer
        self.advertisedAPI = advertisedAPI
        self.join = join
    }
}
