import RillAPI
import RillCluster
import RillGossip
import RillKinesis
import RillModel
import RillTransport

/// What a node is told at start: who it is, where its data lives, and what it reports in ARNs.
public struct NodeConfiguration: Sendable {
    public var id: NodeID
    public var zone: Zone
    public var dataDirectory: String
    public var accountID: String
    public var defaultRegion: String
    /// Threads that run blocking file work (appends, reads, fsync rounds) off the event loops.
    public var storageThreads: Int
    /// Segment size at which a shard log rolls to a new file; retention deletes whole segments.
    public var segmentBytes: Int
    /// How often a shard leader looks for segments past their stream's retention.
    public var retentionInterval: Duration = .seconds(60)
    /// Enforce Kinesis's per-shard throughput limits on every shard this node leads (off for a bare `rill node`;
    /// `rill up` turns them on, as AWS has them).
    public var throughputLimits: Bool
    /// When on-demand streams split and merge (`OnDemandScaler.Policy`): AWS's shard capacity and bounds, and
    /// how long heat or cold must last.
    public var onDemandPolicy = OnDemandScaler.Policy()
    /// When set, every API request must carry a valid SigV4 signature by one of these keys, and every call is
    /// authorized by their policies (`PolicyAuthorizer`) unless `authorizer` is set otherwise.
    public var credentials: KeyRing? {
        didSet { authorizer = credentials.map { PolicyAuthorizer(keys: $0) } ?? AllowAll() }
    }
    /// Decides whether each call may be served (principal, action, resource): `PolicyAuthorizer` over
    /// `credentials`, `AllowAll` without them.
    public var authorizer: any Authorizer = AllowAll()
    /// The key store file (`--key-store`): master keys that wrap the streams' data keys. Every node of a
    /// cluster must have the same one. Nil: `key-store.json` in the data directory, created on first start.
    public var keyStorePath: String?
    /// How this node finds and talks to its peers; nil for a one-node cluster.
    public var cluster: ClusterSettings?
    /// Lets `/admin/faults` move the wall clock and hold back unsynced writes (chaos testing); off in
    /// production. The transport's hooks follow `ClusterSettings.faultInjection`, which `rill node` sets alike.
    public var faultInjection: Bool = false
    /// With `faultInjection`: from the start, writes reach files only at fsync, so kill -9 loses what a power
    /// cut would (`StorageFaults`).
    public var loseUnsyncedWrites: Bool = false

    public init(
        id: NodeID,
        zone: Zone,
        dataDirectory: String,
        accountID: String = "000000000000",
        defaultRegion: String = "us-east-1",
        storageThreads: Int = 4,
        segmentBytes: Int = 64 << 20,
        throughputLimits: Bool = false,
        credentials: KeyRing? = nil
    ) {
        self.credentials = credentials
        self.authorizer = credentials.map { PolicyAuthorizer(keys: $0) } ?? AllowAll()
        self.throughputLimits = throughputLimits
        self.id = id
        self.zone = zone
        self.dataDirectory = dataDirectory
        self.accountID = accountID
        self.defaultRegion = defaultRegion
        self.storageThreads = storageThreads
        self.segmentBytes = segmentBytes
    }
}

/// A node's part in a multi-node cluster (`--peer`, `--join`, `--bootstrap-expect`).
public struct ClusterSettings: Sendable {
    /// Where the peer transport (Raft and internal RPC) listens.
    public var peerHost: String
    public var peerPort: Int
    /// HOST:PORT peers dial to reach this node; the listen address unless it is a wildcard.
    public var advertisedPeer: String
    /// HOST:PORT of this node's Kinesis API, as peers and `rill status` show it.
    public var advertisedAPI: String
    /// Peer addresses to discover the cluster through (this node's own may be among them).
    public var join: [String]
    /// How many founders form a new cluster; all must start with empty data directories.
    public var bootstrapExpect: Int
    /// One Raft tick; elections time out after `electionTicks` to twice that.
    public var tickInterval: Duration = .milliseconds(50)
    public var electionTicks: Int = 10
    /// How long a request may spend finding a leader (elections, redirects) before a retriable error.
    public var forwardDeadline: Duration = .seconds(4)
    /// Lets the transport's fault hooks be used (chaos testing); off in production.
    public var faultInjection: Bool = false
    /// SWIM timings in ticks of `GossipDefaults.tickLength`.
    public var gossip: SWIM.Settings = GossipDefaults.settings
    /// The cluster secret (`--cluster-secret-file`): peers must prove it at every connection's hello
    /// (`TransportSettings.clusterSecret`). Nil: the peer port accepts any hello of this cluster's id.
    public var clusterSecret: [UInt8]? = nil
    /// Mutual TLS on the peer port (`--peer-ca`, `--peer-cert`, `--peer-key`; `TransportSettings.tls`). Nil:
    /// plaintext.
    public var peerTLS: PeerTLSContexts? = nil

    public init(
        peerHost: String,
        peerPort: Int,
        advertisedPeer: String,
        advertisedAPI: String,
        join: [String],
        bootstrapExpect: Int
    ) {
        self.peerHost = peerHost
        self.peerPort = peerPort
        self.advertisedPeer = advertisedPeer
        self.advertisedAPI = advertisedAPI
        self.join = join
        self.bootstrapExpect = bootstrapExpect
    }
}
