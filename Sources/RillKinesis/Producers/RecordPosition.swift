import RillModel

/// Where a record sits in its shard: the `records` entry, its slot there, and the entry's arrival stamp. With
/// the shard's epoch and index these give the record's sequence number (`SequenceNumber(entry:slot:...)`).
/// `origin` names the shard when it is not the one answering: a parent (or an earlier ancestor) whose window a
/// child took over at a reshard, so a retry that reaches the child is answered with the copy the parent stored.
public struct RecordPosition: Sendable, Equatable, Hashable {
    public var index: LogIndex
    public var slot: UInt16
    public var stampMillis: Int64
    /// The shard that stored the record; nil for the shard whose window holds the position.
    public var origin: ShardOrigin?

    public init(index: LogIndex, slot: UInt16, stampMillis: Int64, origin: ShardOrigin? = nil) {
        self.index = index
        self.slot = slot
        self.stampMillis = stampMillis
        self.origin = origin
    }

    /// The record's shard and sequence number, `shard` being the shard whose window answered (its epoch and
    /// index number the records it stored itself).
    public func stored(answeredBy shard: ShardOrigin) -> (shard: ShardID, sequence: SequenceNumber) {
        let owner = origin ?? shard
        let sequence = SequenceNumber(
            epoch: owner.epoch,
            index: index,
            slot: slot,
            arrivalSeconds: UInt64(max(0, stampMillis / 1000)),
            shardIndex: owner.index
        )
        return (ShardID(index: owner.index), sequence)
    }
}

/// A shard as a producer window names it: its index in the stream and its epoch, the two parts of a sequence
/// number that say which shard stored the record.
public struct ShardOrigin: Sendable, Equatable, Hashable, Comparable {
    public var index: UInt32
    public var epoch: UInt64

    public init(index: UInt32, epoch: UInt64) {
        self.index = index
        self.epoch = epoch
    }

    public static func < (lhs: ShardOrigin, rhs: ShardOrigin) -> Bool {
        (lhs.index, lhs.epoch) < (rhs.index, rhs.epoch)
    }
}
