import RillModel
import RillRaft

/// Membership changes driven from outside (the controller's placement): the leader takes one step at a time
/// toward a target (`Raft.Reconfiguration`), each a single-server change the core commits like any entry.
extension RaftGroupDriver {
    /// A learner this close to the leader's last index is promoted: it will not stall commits as a voter.
    static let promotionLag: UInt64 = 64

    /// Where a move stands on this member.
    public enum ReconfigurationProgress: Sendable, Equatable {
        /// This member does not lead the group; `hint` may.
        case notLeader(hint: NodeID?)
        /// The committed configuration is the target.
        case reached
        /// Under way; `step` is what this call started (nil: waiting for a change to commit or a learner).
        case moving(step: Raft.ReconfigurationStep?)
    }

    /// Takes the next step toward `target` if this member leads and no change is pending.
    public func reconfigure(toward target: Raft.Reconfiguration) -> ReconfigurationProgress {
        guard running, node.role == .leader else { return .notLeader(hint: node.leader) }
        if node.hasPendingConfigurationChange { return .moving(step: nil) }
        if target.isReached(by: node.configuration) { return .reached }
        guard let step = target.nextStep(leading: node, promotionLag: Self.promotionLag) else {
            return .moving(step: nil)
        }
        logger.info(
            "changing the group's membership",
            metadata: ["step": "\(step)", "from": "\(node.configuration)", "raft.term": "\(node.term)"]
        )
        switch step {
        case .transferLeadership(let heir):
            transferLeadership(to: heir)
        default:
            guard let change = step.change else { return .moving(step: nil) }
            resume()
            do {
                try self.node.proposeConfigurationChange(change)
            } catch {
                logger.debug("membership change refused", metadata: ["step": "\(step)", "error": "\(error)"])
                return .moving(step: nil)
            }
            wake.yield()
        }
        return .moving(step: step)
    }
}
