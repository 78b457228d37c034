import RillModel

extension Raft.Core {
    /// Proposes one single-server membership change (thesis §4.1). It takes effect on each member as soon as the
    /// config entry is appended there; the next change is accepted only after this one commits.
    @discardableResult
    public mutating func proposeConfigurationChange(
        _ change: Raft.ConfigurationChange
    ) throws(Raft.RaftError) -> LogIndex {
        guard role == .leader else { throw .notLeader(hint: leader) }
        guard transferTarget == nil, progress[id] != nil else { throw .proposalDropped }
        guard pendingConfigurationIndex <= commitIndex else { throw .configurationChangeInProgress }
        guard let next = configuration.applying(change) else { throw .invalidConfigurationChange }
        let index = appendAsLeader(kind: .config, payload: next.encoded, timestampMillis: 0)
        pendingConfigurationIndex = index
        return index
    }

    /// Whether a configuration change was appended and has not committed yet: the next must wait (§4.1).
    public var hasPendingConfigurationChange: Bool { pendingConfigurationIndex > commitIndex }

    /// Switches to `next`, updating the leader's progress table.
    mutating func applyConfiguration(_ next: Raft.Configuration) {
        guard next != configuration else { return }
        configuration = next
        guard role == .leader else { return }
        for member in next.members where progress[member] == nil {
            progress[member] = Raft.Progress(match: .zero, next: log.lastIndex.next)
        }
        for member in progress.keys where !next.members.contains(member) && member != id {
            progress[member] = nil
        }
        if let target = transferTarget, !next.voters.contains(target) {
            transferTarget = nil
        }
        // A smaller voter set may commit more right away.
        if maybeCommit() {
            broadcastAppend()
        }
    }
}
