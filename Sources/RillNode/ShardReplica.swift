import NIOConcurrencyHelpers
import RillKinesis
import RillModel
import RillStorage

/// One shard's log on this node. Appends are serialized here (the index is taken under the lock, so
/// sequence numbers follow log order); reads run concurrently with them.
final class ShardReplica: Sendable {
    let streamID: String
    let shard: ShardID
    let epoch: UInt64
    let log: SegmentedLog
    private let term = Term(1)
    private let appendLock = NIOLock()
    /// Set once a `seal` entry is in the log: no record may follow it (resharding closes the shard there).
    private let sealedAt = NIOLockedValueBox<LogIndex?>(nil)

    /// Refused appends to a sealed shard: nothing was written, so the caller may re-route.
    struct Sealed: Error {}

    init(streamID: String, shard: ShardID, epoch: UInt64, log: SegmentedLog) {
        self.streamID = streamID
        self.shard = shard
        self.epoch = epoch
        self.log = log
    }

    /// Appends one `records` entry holding `batch` and returns its index. Not yet durable.
    func append(_ batch: RecordBatch, stampMillis: Int64) throws -> LogIndex {
        let payload = batch.encoded()
        return try appendLock.withLock {
            guard sealedAt.withLockedValue({ $0 }) == nil else { throw Sealed() }
            let index = log.lastIndex.next
            try log.append([
                LogEntry(term: term, index: index, kind: .records, timestampMillis: stampMillis, payload: payload)
            ])
            return index
        }
    }

    /// Appends the `seal` entry that ends this shard's records and returns its index. Not yet durable.
    func appendSeal(stampMillis: Int64) throws -> LogIndex {
        try appendLock.withLock {
            if let index = sealedAt.withLockedValue({ $0 }) { return index }
            let index = log.lastIndex.next
            try log.append([LogEntry(term: term, index: index, kind: .seal, timestampMillis: stampMillis)])
            sealedAt.withLockedValue { $0 = index }
            return index
        }
    }

    /// Marks the shard sealed at `index` (from the catalog, after a restart) or reopens it (nil) when a
    /// reshard failed to commit: a seal entry the catalog never adopted is inert.
    func setSealed(at index: LogIndex?) {
        appendLock.withLock { sealedAt.withLockedValue { $0 = index } }
    }

    /// Appends a `trim` entry moving the log start to `index`. Replicas never trim by their own clock:
    /// the trim is an entry, so every replica cuts at the same place (ARCHITECTURE.md, retention rule).
    func appendTrim(before index: LogIndex, stampMillis: Int64) throws -> LogIndex {
        var payload: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) { payload.append(UInt8(truncatingIfNeeded: index.rawValue >> UInt64(shift))) }
        return try appendLock.withLock {
            let entryIndex = log.lastIndex.next
            try log.append([LogEntry(term: term, index: entryIndex, kind: .trim, timestampMillis: stampMillis, payload: payload)])
            return entryIndex
        }
    }

    /// Where a retention trim may cut: the first index of the first segment that still holds a record
    /// younger than `horizonMillis`. Whole segments go; the active one never does.
    func retentionCut(horizonMillis: Int64) -> LogIndex? {
        let segments = log.segments()
        var cut: LogIndex?
        for (position, segment) in segments.enumerated().dropLast() {
            guard segment.maxTimestamp < horizonMillis else { break }
            cut = segments[position + 1].firstIndex
        }
        guard let cut, cut > log.firstIndex else { return nil }
        return cut
    }

    /// The last index readers may see: with one voter, what is on disk is committed.
    var committedIndex: LogIndex { log.durableIndex }

    func sequenceNumber(index: LogIndex, slot: UInt16, stampMillis: Int64) -> SequenceNumber {
        SequenceNumber(
            epoch: epoch, index: index, slot: slot, arrivalSeconds: UInt64(max(0, stampMillis / 1000)),
            shardIndex: shard.index)
    }
}
