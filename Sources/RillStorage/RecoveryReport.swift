import RillModel

/// What `SegmentedLog.open` found on disk (ARCHITECTURE "Durability rules").
public enum RecoveryReport: Sendable, Equatable, CustomStringConvertible {
    /// Every byte on disk was a valid entry.
    case clean
    /// A partial or CRC-bad final entry with nothing valid after it, at or above the durable index, was cut
    /// off: the normal trace of a crash between a write and its fsync.
    case truncatedTornTail(bytes: Int64)
    /// Entries the log should hold are missing or unreadable: a bad entry followed by a valid one, a missing
    /// segment, a bad segment header, or a log ending below its durable index. Entries up to `lastGoodIndex`
    /// remain readable and everything after the damage was removed; Raft decides what such a replica may do
    /// (it neither votes nor acknowledges until it has caught up as a learner).
    case damaged(reason: String, lastGoodIndex: LogIndex)

    /// A one-line summary for logs.
    public var description: String {
        switch self {
        case .clean: return "clean"
        case .truncatedTornTail(let bytes): return "truncated a torn tail of \(bytes) bytes"
        case .damaged(let reason, let lastGoodIndex): return "damaged after index \(lastGoodIndex): \(reason)"
        }
    }
}
