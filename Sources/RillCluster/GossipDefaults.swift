import RillGossip

/// The gossip settings nodes and routers start from (`SWIM.Settings.rill`) and the tick they assume.
public enum GossipDefaults {
    public static var settings: SWIM.Settings { .rill }

    /// One tick of the SWIM clock; the settings count in ticks.
    public static let tickLength: Duration = .milliseconds(10)
}
