import RillGossip
import RillModel

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

    public init(
        id: NodeID, zone: Zone, peerHost: String, peerPort: Int, advertisedPeer: String, advertisedAPI: String,
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

/// Rill's gossip timings: a 500 ms protocol period with a 250 ms probe timeout (half memberlist's LAN values)
/// and 3 indirect probes, and a suspicion of 3–5 periods (1.5–2.5 s; memberlist waits 4–24 periods). Clusters
/// here are three to a few nodes, so each member probes each other member only every few periods; the shorter
/// period lets every member know a dead node within five seconds (first probe ≤ 1.5 s, failed probe 0.5 s,
/// suspicion ≤ 2.5 s). A suspect refutes at the next message it gets (Lifeguard's buddy system), well inside
/// 1.5 s on a LAN, so the shorter window costs no false deaths; probes cost a few hundred bytes.
public enum GossipDefaults {
    public static var settings: SWIM.Settings {
        var settings = SWIM.Settings()
        settings.protocolPeriod = 50
        settings.probeTimeout = 25
        settings.indirectProbeCount = 3
        settings.suspicionMinMultiplier = 3
        settings.suspicionMaxMultiplier = 5.0 / 3.0
        // Clusters of three nodes and a router: the log10(n) scaling of the suspicion would not change it.
        return settings
    }

    /// One tick of the SWIM clock; the settings count in ticks.
    public static let tickLength: Duration = .milliseconds(10)
}
