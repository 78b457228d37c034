import Logging
import RillModel
import RillRaft

/// The group's log lines and counted events: role changes at info (docs/operations.md, "Logs"), snapshot
/// installs counted and logged. Every line carries `raft.term`; `rill.group` comes with the logger.
extension RaftGroupDriver {
    /// Info when this member becomes or stops being leader, or follows a new leader; candidacies and a lost
    /// leader are debug: an election repeats them every timeout until it succeeds, and the outcome is info.
    func reportRoleChange(_ soft: Raft.SoftState, term: Term) {
        let previous = reportedSoftState
        reportedSoftState = soft
        onRoleChange(soft.role == .leader ? id : soft.leader, term)
        let metadata: Logger.Metadata = [
            "raft.role": "\(soft.role)", "raft.term": "\(term)",
            "raft.leader": "\(soft.leader.map { "\($0)" } ?? "none")",
        ]
        let settled =
            soft.role == .leader || previous?.role == .leader || (soft.role == .follower && soft.leader != nil)
        if settled && !soleVoter {
            logger.info("raft role changed", metadata: metadata)
            if (soft.role == .leader) != (previous?.role == .leader) { onLeadershipChange(soft.role == .leader, term) }
        } else {
            logger.debug("raft role changed", metadata: metadata)
        }
    }

    /// A snapshot from the leader replaced this member's log (it was behind the leader's log start).
    func reportSnapshotInstalled(_ snapshot: Raft.Snapshot, term: Term) {
        onSnapshotInstalled()
        logger.info(
            "installed a snapshot from the leader",
            metadata: [
                "raft.term": "\(term)", "raft.snapshot.index": "\(snapshot.index)",
                "raft.snapshot.term": "\(snapshot.term)",
            ]
        )
    }
}
