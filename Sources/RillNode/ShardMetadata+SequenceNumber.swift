import RillKinesis
import RillModel

extension ShardMetadata {
    /// The sequence number of the record in `slot` of the entry at `index`, stamped `stampMillis` by the leader.
    func sequenceNumber(index: LogIndex, slot: UInt16, stampMillis: Int64) -> SequenceNumber {
        SequenceNumber(entry: index, slot: slot, stampMillis: stampMillis, epoch: epoch, shardIndex: self.index)
    }
}

extension SequenceNumber {
    /// The number of the record in `slot` of the entry at `entry`, stamped `stampMillis` by the leader.
    init(entry: LogIndex, slot: UInt16, stampMillis: Int64, epoch: UInt64, shardIndex: UInt32) {
        self.init(
            epoch: epoch,
            index: entry,
            slot: slot,
            arrivalSeconds: UInt64(max(0, stampMillis / 1000)),
            shardIndex: shardIndex
        )
    }
}
