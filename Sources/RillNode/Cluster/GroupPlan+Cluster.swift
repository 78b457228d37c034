import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RillAPI
import RillCluster
import RillGossip
import RillKinesis
import RillModel
import RillRaft
import RillReplication
import RillRouting
import RillStorage
import RillTransport

extension GroupPlan {
    /// The plan of a group with several voters (the metadata group, or a shard's three replicas).
    static func cluster(
        voters: [NodeID],
        me: NodeID,
        cluster: ClusterContext,
        registry: GroupRegistry,
        group: RaftGroupID
    ) -> GroupPlan {
        let settings = cluster.settings
        // A shard's followers apply only for retention, subscriptions (which trail the leader by a heartbeat at
        // most) and a later leadership; telling them each commit at once would double the messages (and wake-ups
        // on every node) of every write. The commit rides on the next append or heartbeat (a tick, 50 ms, while
        // the group is awake; it rests only once every follower was told). Reads are served only by a leader that
        // applied an entry of its term (`ShardLeaders.servingReplica`), so they never see a follower's lag. The
        // metadata group's followers act on what they apply (opening replicas), so they hear at once.
        var eagerCommitNotice = true
        if case .shard = group { eagerCommitNotice = false }
        // The group's tasks and its timers on one event loop: a tick or a nudge wakes it where it runs.
        let loop = cluster.transport.group.next()
        // Every group of a cluster ticks, even one that starts with this node as its only voter (a healed shard
        // grows from one copy): its leader must heartbeat the members it adds.
        var plan = GroupPlan(
            me: me,
            voters: voters,
            tickInterval: settings.tickInterval,
            options: Raft.Options(
                electionTicks: settings.electionTicks,
                heartbeatTicks: 1,
                eagerCommitNotice: eagerCommitNotice
            ),
            send: registry.sender(for: group),
            campaignAtStart: voters.first == me && !cluster.rejoining,
            abstain: cluster.rejoining && voters != [me],
            isAlive: { cluster.isAlive($0) },
            taskExecutor: EventLoopTaskExecutor(loop)
        )
        plan.clock = EventLoopGroupClock(loop: loop)
        // The node checks its resting groups with their members' nodes once a second (`Node.checkRestingGroups`)
        // and wakes a leader only when a member disagrees, instead of every resting leader waking for a round.
        plan.nudgesWhileResting = false
        plan.onRoleChange = { [board = registry.board] leader, term in board.update(group, term: term, leader: leader) }
        plan.onLeadershipChange = { [events = cluster.events, gossip = cluster.gossip] leads, term in
            // Routers and other nodes learn of a new leader now, not at the next hint sampling (a second).
            if leads { gossip.addLeadershipHint(SWIM.LeadershipHint(group: group, term: term, leader: me)) }
            events.record(
                ClusterEvent(
                    timeMillis: SystemWallClock().nowMillis(),
                    kind: leads ? .becameLeader : .steppedDown,
                    member: me.rawValue,
                    group: "\(group)",
                    term: term.rawValue
                )
            )
        }
        return plan
    }
}
