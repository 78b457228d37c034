import RillModel

extension Raft.Node {
    /// Whether `ready()` would return work.
    public var hasReady: Bool {
        !pendingMessages.isEmpty || !pendingMessagesAfterPersist.isEmpty || pendingSnapshot != nil
            || unstableFrom <= log.lastIndex || hardState != reportedHardState || softState != reportedSoftState
            || nextCommittedRange != nil
    }

    /// Takes the work accumulated since the last call: what to persist, send and apply. Returns nil when there
    /// is nothing. The shell handles the Ready (see `Raft.Ready` for the order) and then calls `advance(_:)`.
    public mutating func ready() -> Raft.Ready? {
        guard hasReady else { return nil }
        let hard = hardState
        let soft = softState
        var committed: [LogEntry] = []
        if let range = nextCommittedRange {
            committed = log.entries(from: range.lowerBound, through: range.upperBound) ?? []
            if let last = committed.last { applyingIndex = last.index }
        }
        let ready = Raft.Ready(
            hardState: hard == reportedHardState ? nil : hard,
            softState: soft == reportedSoftState ? nil : soft,
            snapshot: pendingSnapshot,
            entries: log.entries(from: max(unstableFrom, log.firstIndex)) ?? [],
            messages: pendingMessages,
            messagesAfterPersist: pendingMessagesAfterPersist,
            committedEntries: committed)
        reportedHardState = hard
        reportedSoftState = soft
        pendingMessages = []
        pendingMessagesAfterPersist = []
        pendingSnapshot = nil
        unstableFrom = log.lastIndex.next
        return ready
    }

    /// Reports that the shell persisted, sent and applied `ready`. A leader now counts its own durable entries
    /// toward the commit (thesis §10.2.1), which may produce more work.
    public mutating func advance(_ ready: Raft.Ready) {
        if let installed = ready.snapshot {
            appliedIndex = max(appliedIndex, installed.index)
            if log.snapshotIndex == installed.index { persistedIndex = max(persistedIndex, installed.index) }
        }
        // Only what still matches the log counts as durable: a later step may have overwritten it.
        if let last = ready.entries.last, log.matches(index: last.index, term: last.term) {
            persistedIndex = max(persistedIndex, last.index)
        }
        if let last = ready.committedEntries.last {
            appliedIndex = max(appliedIndex, last.index)
        }
        if role == .leader, progress[id] != nil {
            progress[id]?.match = persistedIndex
            if maybeCommit() {
                broadcastAppend()
            }
        }
    }

    /// The committed entries not yet handed out.
    private var nextCommittedRange: ClosedRange<LogIndex>? {
        let from = max(applyingIndex, log.snapshotIndex).next
        return from <= commitIndex ? from...commitIndex : nil
    }
}
