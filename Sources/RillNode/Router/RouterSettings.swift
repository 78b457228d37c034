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

/// Rill's gossip timings: memberlist's LAN protocol period (1 s), probe timeout (500 ms) and 3 indirect
/// probes, with a shorter suspicion (2–3 periods instead of 4–24): clusters here are three to a few nodes, and
/// a dead shard leader should be known within five seconds. A false suspicion costs little, since the suspect
/// refutes at the next message it gets (Lifeguard's buddy system).
public enum GossipDefaults {
    public static var settings: SWIM.Settings {
        var settings = SWIM.Settings()
        settings.protocolPeriod = 100
        settings.probeTimeout = 50
        settings.indirectProbeCount = 3
        settings.suspicionMinMultiplier = 2
        settings.suspicionMaxMultiplier = 1.5
        // Clusters of three nodes and a router: the log10(n) scaling of the suspicion would not change it.
        return settings
    }

    /// One tick of the SWIM clock; the settings count in ticks.
    public static let tickLength: Duration = .milliseconds(10)
}
