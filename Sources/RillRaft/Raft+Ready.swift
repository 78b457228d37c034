import RillModel

extension Raft.Core {
    /// Whether `ready()` would return work.
    public var hasReady: Bool {
        !pendingMessages.isEmpty || !pendingMessagesAfterPersist.isEmpty || pendingSnapshot != nil
            || (replicationDue && role == .leader)
            || unstableFrom <= log.lastIndex || hardState != reportedHardState || softState != reportedSoftState
            || nextCommittedRange != nil
    }

    /// Takes the work accumulated since the last call: what to persist, send and apply. Returns nil when there
    /// is nothing. The shell handles the Ready (see `Raft.Ready` for the order) and then calls `advance(_:)`.
    public mutating func ready() -> Raft.Ready? {
        sendDueReplication()
        guard hasReady else { return nil }
        let hard = hardState
        let soft = softState
        var committed: [LogEntry] = []
        if let range = nextCommittedRange {
            // Committed entries are never compacted before they are applied; storage that lost them broke the
            // `LogStorage` contract, and handing out nothing would spin the shell on the same Ready forever.
            guard
                let entries = log.entries(
                    from: range.lowerBound,
                    through: range.upperBound,
                    maxBytes: options.maxApplyBytes
                )
            else { preconditionFailure("storage lost committed entries from \(range.lowerBound)") }
            committed = entries
            if let last = committed.last { applyingIndex = last.index }
        }
        let ready = Raft.Ready(
            hardState: hard == reportedHardState ? nil : hard,
            softState: soft == reportedSoftState ? nil : soft,
            snapshot: pendingSnapshot,
            entries: log.unstableEntries(from: unstableFrom),
            messages: pendingMessages,
            messagesAfterPersist: pendingMessagesAfterPersist,
            committedEntries: committed
        )
        reportedHardState = hard
        reportedSoftState = soft
        pendingMessages = []
        pendingMessagesAfterPersist = []
        pendingSnapshot = nil
        unstableFrom = log.lastIndex.next
        return ready
    }

    /// Reports that the shell persisted, sent and applied `ready`. The shell must have written `ready.snapshot`
    /// and `ready.entries` to the node's `LogStorage` (and synced them) first: the entries now leave the core's
    /// memory and are read back from storage. A leader now counts its own durable entries toward the commit
    /// (thesis §10.2.1), which may produce more work.
    public mutating func advance(_ ready: Raft.Ready) {
        if let installed = ready.snapshot {
            appliedIndex = max(appliedIndex, installed.index)
            if log.snapshotIndex == installed.index { persistedIndex = max(persistedIndex, installed.index) }
        }
        // Only what still matches the log counts as durable: a later step may have overwritten it.
        if let last = ready.entries.last, log.matches(index: last.index, term: last.term) {
            persistedIndex = max(persistedIndex, last.index)
            log.stableTo(index: last.index, term: last.term)
        }
        if let last = ready.committedEntries.last {
            appliedIndex = max(appliedIndex, last.index)
        }
        if role == .leader, progress[id] != nil {
            progress[id]?.match = persistedIndex
            if maybeCommit() {
                announceCommit()
            }
        }
    }

    /// The committed entries not yet handed out.
    private var nextCommittedRange: ClosedRange<LogIndex>? {
        let from = max(applyingIndex, log.snapshotIndex).next
        return from <= commitIndex ? from...commitIndex : nil
    }
}
