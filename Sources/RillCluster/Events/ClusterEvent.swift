import RillGossip
import RillKinesis
import RillModel

/// One thing that happened in the cluster as one node saw it: a member changing state, a group getting a new
/// leader, a snapshot installed, a stream created, deleted or resharded. Nodes keep the latest in a `ClusterEventLog` and show them in `/admin/status`;
/// the console merges every node's list (docs/console.md).
public struct ClusterEvent: Sendable, Equatable {
    /// What happened; the raw value is the JSON `kind`.
    public enum Kind: String, Sendable, CaseIterable {
        case memberJoined = "member-joined"
        case memberAlive = "member-alive"
        case memberSuspect = "member-suspect"
        case memberDead = "member-dead"
        case memberLeft = "member-left"
        case memberRemoved = "member-removed"
        case becameLeader = "became-leader"
        case steppedDown = "stepped-down"
        case snapshotInstalled = "snapshot-installed"
        case streamCreated = "stream-created"
        case streamDeleted = "stream-deleted"
        case resharded = "resharded"
    }

    /// Wall-clock time of the node that saw it.
    public var timeMillis: Int64
    public var kind: Kind
    /// The member the event is about (the one that changed state, or the one that leads now).
    public var member: UInt64?
    /// The Raft group (`meta`, or `streamId/shardId`), for group events.
    public var group: String?
    public var term: UInt64?
    /// A short human line: the zone and incarnation of a member, the stream name of a group.
    public var detail: String

    public init(
        timeMillis: Int64,
        kind: Kind,
        member: UInt64? = nil,
        group: String? = nil,
        term: UInt64? = nil,
        detail: String = ""
    ) {
        self.timeMillis = timeMillis
        self.kind = kind
        self.member = member
        self.group = group
        self.term = term
        self.detail = detail
    }

    /// The event for a gossip change of `new`, or nil when neither its state nor its incarnation changed (a
    /// payload-only update such as a leadership hint is not worth a line).
    public static func memberChange(from old: SWIM.Member?, to new: SWIM.Member, atMillis now: Int64) -> ClusterEvent? {
        let kind: Kind
        if old == nil {
            kind = .memberJoined
        } else if let old, old.status.name != new.status.name || old.incarnation != new.incarnation {
            switch new.status {
            case .alive: kind = .memberAlive
            case .suspect: kind = .memberSuspect
            case .dead: kind = .memberDead
            case .left: kind = .memberLeft
            }
        } else {
            return nil
        }
        return ClusterEvent(
            timeMillis: now,
            kind: kind,
            member: new.id.rawValue,
            detail: "\(new.role) in \(new.zone.rawValue), \(new.status.name), incarnation \(new.incarnation)"
        )
    }

    /// The event for a snapshot `member` installed from its group's leader.
    public static func snapshotInstalled(by member: UInt64, group: String, atMillis now: Int64) -> ClusterEvent {
        ClusterEvent(timeMillis: now, kind: .snapshotInstalled, member: member, group: group)
    }

    /// Writes the event as one JSON object of `/admin/status`'s `events`.
    public func write(into w: inout JSONWriter) {
        w.beginObject()
        w.key("timeMillis")
        w.int(timeMillis)
        w.key("kind")
        w.string(kind.rawValue)
        if let member {
            w.key("member")
            w.int(member)
        }
        if let group {
            w.key("group")
            w.string(group)
        }
        if let term {
            w.key("term")
            w.int(term)
        }
        w.key("detail")
        w.string(detail)
        w.endObject()
    }
}
