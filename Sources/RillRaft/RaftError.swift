import RillModel

extension Raft {
    /// Why the core refused a request from its shell. Nothing here is fatal: the caller retries elsewhere or later.
    public enum RaftError: Error, Sendable, Equatable {
        /// This node is not the leader; `hint` is the leader it last heard from, if any.
        case notLeader(hint: NodeID?)
        /// The leader cannot take proposals right now (a leadership transfer is under way, or it was removed).
        case proposalDropped
        /// A membership change is still uncommitted; thesis §4.1 allows only one at a time.
        case configurationChangeInProgress
        /// The membership change makes no sense against the current configuration (for example removing the last
        /// voter, or adding a voter that already votes).
        case invalidConfigurationChange
        /// The requested transfer target is not a voter of the current configuration, or is this node.
        case invalidTransferTarget
        /// `compact(through:)` asked for an index that is not applied yet, or already compacted.
        case invalidCompaction
    }
}
