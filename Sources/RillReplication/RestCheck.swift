import RillModel
import RillRaft

/// The rest check (ARCHITECTURE "Data plane transport": idle groups rest): one call per node pair a second
/// replaces one heartbeat round per resting leader a second, and checks resting followers too.
///
/// A resting leader used to wake once a second (the nudge) for a heartbeat round, in case a member had
/// changed in a way it could not hear of: a lost disk, a newer term, a replica not opened yet. With thousands of
/// idle shards those rounds were most of an idle node's CPU, although they almost never found anything: the
/// member's replica rested too, at the same term, leader and index. Now each node sends, once a second, every
/// other member's node the groups it leads that rest, and its leader's node every group it follows that rests
/// (`RestingGroup`); the receiving node compares each with its own replica's resting status and names those it
/// disagrees with, and only those wake where they were sent from. A woken leader heartbeats as after a nudge; a
/// woken follower ticks again and campaigns unless its leader speaks first. The followers' half closes what
/// the nudge left open: followers resting on a leader whose node restarted without their hearing of it (its
/// new replica does not lead) waited for news that might never come, since only leaders nudged. When a node
/// cannot be asked (unreachable, too slow, or too old to read the call), everything sent to it wakes, as each
/// resting leader did every second before.
///
/// Pure: the node's shell (`Node.checkRestingGroups`) gathers the statuses and makes the calls.
public enum RestCheck {
    /// How often a node checks its resting groups: the old nudge period, so nothing waits longer than before.
    public static let period: Duration = .seconds(1)

    /// What to ask each node: for every group that rests here as leader, one entry to each other member (voter
    /// or learner) of its configuration; for every group that rests here as follower, one entry to its leader.
    public static func calls(
        resting statuses: [(RaftGroupID, RaftGroupDriver.Status)],
        me: NodeID
    ) -> [NodeID: [RestingGroup]] {
        var calls: [NodeID: [RestingGroup]] = [:]
        for (group, status) in statuses where status.resting {
            guard let leader = status.leader else { continue }
            let entry = RestingGroup(group: group, term: status.term, leader: leader, commit: status.commit)
            switch status.role {
            case .leader where leader == me:
                for member in status.configuration.voters.union(status.configuration.learners) where member != me {
                    calls[member, default: []].append(entry)
                }
            case .follower where leader != me:
                calls[leader, default: []].append(entry)
            default:
                continue
            }
        }
        return calls
    }

    /// The receiving side: the positions in `entries` that this node's (`me`) replicas do not agree with. `local`
    /// gives a group's resting status here, nil when the group does not rest here (it is awake, or there is no
    /// replica): then the sender's group must wake too (a follower here needs the leader's heartbeats; a
    /// follower elsewhere must not rest on this node while its group is awake or gone here).
    ///
    /// A replica agrees when it rests in the same term, with the same leader, in the role that leader gives it
    /// (leader if it is `me`, follower otherwise), holding and having applied exactly the same log: then a
    /// heartbeat round would change nothing.
    public static func disagreeing(
        _ entries: [RestingGroup],
        me: NodeID,
        local: (RaftGroupID) -> RaftGroupDriver.Status?
    ) -> [Int] {
        var out: [Int] = []
        for (position, entry) in entries.enumerated() {
            guard let status = local(entry.group), agrees(status, with: entry, me: me) else {
                out.append(position)
                continue
            }
        }
        return out
    }

    static func agrees(_ status: RaftGroupDriver.Status, with entry: RestingGroup, me: NodeID) -> Bool {
        status.resting && status.role == (entry.leader == me ? .leader : .follower) && status.leader == entry.leader
            && status.term == entry.term && status.commit == entry.commit && status.lastIndex == entry.commit
            && status.applied == entry.commit
    }
}
