import RillModel

/// Where a record sits in its shard: the `records` entry, its slot there, and the entry's arrival stamp. With
/// the shard's epoch and index these give the record's sequence number (`SequenceNumber(entry:slot:...)`).
public struct RecordPosition: Sendable, Equatable, Hashable {
    public var index: LogIndex
    public var slot: UInt16
    public var stampMillis: Int64

    public init(index: LogIndex, slot: UInt16, stampMillis: Int64) {
        self.index = index
        self.slot = slot
        self.stampMillis = stampMillis
    }
}
