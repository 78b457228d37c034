import RillModel

extension Raft.Core {
    /// Whether this leader's group is idle: every member holds the whole log and has been told it is
    /// committed, nothing is in flight, and no transfer or membership change is pending. A shell may then
    /// stop ticking the group (no heartbeats, no check-quorum rounds) until an event arrives, so that a node
    /// hosting a thousand idle shards spends nothing on them (what CockroachDB calls quiescence; Rill says resting).
    ///
    /// Withholding ticks never affects safety, only liveness: the shell must resume ticking on any message,
    /// proposal or membership event, and when a member's node may have failed.
    public var canRest: Bool {
        guard role == .leader, transferTarget == nil, abstention == nil, commitIndex == log.lastIndex,
            appliedIndex == commitIndex, pendingConfigurationIndex <= commitIndex
        else { return false }
        for (peer, peerProgress) in progress where peer != id {
            guard peerProgress.match == log.lastIndex, peerProgress.sentCommit >= commitIndex,
                peerProgress.inflight.isEmpty
            else { return false }
        }
        return true
    }

    /// Whether this non-leader has nothing to wait for from its leader: it knows one, holds everything it
    /// knows committed and has applied it. Its election timer may then rest while the shell knows the
    /// leader's node to be alive (from gossip); the lease on votes (thesis §6.2) keeps holding meanwhile,
    /// so a restarted member's pre-vote cannot depose the resting leader.
    public var isIdleFollower: Bool {
        guard role == .follower, let leader, leader != id else { return false }
        return commitIndex == log.lastIndex && appliedIndex == commitIndex
    }
}

extension Raft.Core {
    /// The shell learned that `suspect`'s node may be gone (gossip suspects it, declared it dead, or saw it
    /// restart). A follower of `suspect` stops counting on it: its vote lease (thesis §6.2) ends, so it grants a
    /// pre-vote at once, and it campaigns within one election timeout, at a random moment, unless a message
    /// from the leader comes first and restarts its timer.
    ///
    /// Without this, a follower that rested (it stops ticking while idle, and it went idle the moment its
    /// leader died) resumed its election timer where it had stopped, so the election began a whole timeout after
    /// gossip noticed the death, and the other follower's lease refused pre-votes meanwhile. A false
    /// suspicion costs at most an election: a live leader's heartbeats restart the timers first.
    ///
    /// News that may be stale (gossip's) is ignored by a follower whose timer ran and that heard from `suspect`
    /// within the last heartbeat interval: its leader spoke after gossip formed its view. That view can be stale: a member cut off from the
    /// others suspects them all, and when the cut heals its suspicions spread before the refutations do. Acting on
    /// one ended the leases of followers that heard their leader every heartbeat, so the returning member's first
    /// pre-vote won and deposed a live leader (a chaos `netpartition` run lost the metadata group's leader this
    /// way for half a second).
    ///
    /// - Parameter unlessHeardRecently: the news may be stale (gossip's), and this member's timer has been
    ///   running, so the ticks since its leader last spoke tell whether it spoke since. False for certain news
    ///   (the leader's process is gone), or for a member whose timer stood still (it rested).
    public mutating func leaderSuspected(_ suspect: NodeID, unlessHeardRecently: Bool) {
        guard role == .follower, leader == suspect, suspect != id else { return }
        if unlessHeardRecently, electionElapsed <= options.heartbeatTicks { return }
        electionElapsed = max(electionElapsed, options.electionTicks)
    }
}
