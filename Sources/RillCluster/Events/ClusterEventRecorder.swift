import RillKinesis
import Synchronization

/// A node's or router's `ClusterEventLog` behind a lock, fed from gossip observers and Raft role reports on
/// whatever thread they run, read by `/admin/status`.
public final class ClusterEventRecorder: Sendable {
    private let log: Mutex<ClusterEventLog>

    public init(capacity: Int = 256) {
        log = Mutex(ClusterEventLog(capacity: capacity))
    }

    public func record(_ event: ClusterEvent) {
        log.withLock { $0.append(event) }
    }

    /// Every event held, oldest first.
    public var events: [ClusterEvent] { log.withLock { $0.events } }

    /// Writes `"events": [...]` (oldest first) into an open object.
    public func write(into w: inout JSONWriter) {
        let events = self.events
        w.key("events")
        w.beginArray()
        for event in events { event.write(into: &w) }
        w.endArray()
    }
}
