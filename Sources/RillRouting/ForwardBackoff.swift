import RillModel

/// How long the one forwarder waits before it tries a call again (ARCHITECTURE.md, "One forwarder"); pure, the
/// retry loop sleeps what it says. A redirect that names a node not tried yet in this call is followed at once:
/// the node that refused knows who leads now (an election ended, or a transfer under way names its target), and
/// a pause would only delay the write. Otherwise — no hint (an election is still running, a group not open yet),
/// or a hint that came back to a node already tried (two nodes naming each other mid-election) — the pause
/// doubles from `first` up to `cap`. The cap bounds what a wait costs past the event it waits for: with the
/// former 200 ms cap a leader that was ready 160 ms into the wait was found at 310 ms and one ready at 520 ms
/// only at 710 ms, the 0.31 and 0.71 s maxima that sequential PutRecord showed in a stream's first seconds.
public struct ForwardBackoff: Sendable {
    public static let first: Duration = .milliseconds(10)
    public static let cap: Duration = .milliseconds(50)

    private var next = Self.first
    private var followed: Set<NodeID> = []

    public init() {}

    /// The pause before the next attempt, after an attempt whose redirect named `hint` (nil: no hint, or the
    /// target could not be reached).
    public mutating func pause(after hint: NodeID?) -> Duration {
        if let hint, followed.insert(hint).inserted { return .zero }
        defer { next = min(next * 2, Self.cap) }
        return next
    }
}
