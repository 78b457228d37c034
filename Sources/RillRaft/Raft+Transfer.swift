import RillModel

extension Raft.Core {
    /// Hands leadership to `target` (thesis §3.10): stop taking proposals, bring the target up to date, then
    /// send it TimeoutNow so it campaigns at once. Aborted after an election timeout.
    public mutating func transferLeadership(to target: NodeID) throws(Raft.RaftError) {
        guard role == .leader else { throw .notLeader(hint: leader) }
        guard target != id, configuration.voters.contains(target), let targetProgress = progress[target] else {
            throw .invalidTransferTarget
        }
        if transferTarget == target { return }
        transferTarget = target
        electionElapsed = 0
        if targetProgress.match == log.lastIndex {
            sendNow(to: target, .timeoutNow)
        } else {
            sendAppend(to: target, allowEmpty: true)
        }
    }
}
