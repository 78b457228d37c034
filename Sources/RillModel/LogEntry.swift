/// What a log entry carries. The shard's Raft log is its record log, so every kind lives in one sequence.
public enum EntryKind: UInt8, Sendable, CaseIterable {
    /// A batch of client records, stamped with the leader's arrival time.
    case records = 1
    /// The empty entry a new leader appends to commit its term (Raft §8).
    case noop = 2
    /// A membership change of the group.
    case config = 3
    /// Moves the log start: retention and DecreaseStreamRetentionPeriod (replicas never trim by their own clock).
    case trim = 4
    /// Closes a shard for resharding.
    case seal = 5
    /// A command of the metadata group (streams, shards, tags, retention).
    case meta = 6
}

/// One entry of a replicated log: the unit Raft replicates and storage frames on disk.
public struct LogEntry: Sendable, Equatable {
    public var term: Term
    public var index: LogIndex
    public var kind: EntryKind
    /// The leader's wall-clock stamp in epoch milliseconds (0 when the kind has none). Replicas never restamp.
    public var timestampMillis: Int64
    public var payload: [UInt8]

    public init(term: Term, index: LogIndex, kind: EntryKind, timestampMillis: Int64 = 0, payload: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.timestampMillis = timestampMillis
        self.payload = payload
    }
}
