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
            let index = log.lastIndex.next
            try log.append([
                LogEntry(term: term, index: index, kind: .records, timestampMillis: stampMillis, payload: payload)
            ])
            return index
        }
    }

    /// The last index readers may see: with one voter, what is on disk is committed.
    var committedIndex: LogIndex { log.durableIndex }

    func sequenceNumber(index: LogIndex, slot: UInt16, stampMillis: Int64) -> SequenceNumber {
        SequenceNumber(
            epoch: epoch, index: index, slot: slot, arrivalSeconds: UInt64(max(0, stampMillis / 1000)),
            shardIndex: shard.index)
    }
}
