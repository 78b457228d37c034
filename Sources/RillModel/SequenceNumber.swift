/// A Kinesis sequence number: a 186-bit integer in KCL's "version 2" layout, written as 56 decimal digits.
///
/// Layout, from the most significant hex digit (47 in all; ARCHITECTURE.md "Sequence numbers"):
///
///     [0]      2                      version
///     [1..9]   shard epoch            36 bits, assigned once by the controller
///     [10]     0
///     [11..26] log index << 16 | slot 64 bits: the committed entry and the record's place in it
///     [27..28] 00
///     [29..37] arrival seconds        36 bits, the leader's stamp on the entry
///     [38..45] shard index            32 bits, where KCL's SequenceNumberValidator reads it
///     [46]     0
///
/// Within a shard the epoch is fixed, so order is (index, slot) order: a pure function of the log position,
/// identical on every replica, and strictly increasing across leader changes.
public struct SequenceNumber: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var epoch: UInt64
    public var index: LogIndex
    public var slot: UInt16
    public var arrivalSeconds: UInt64
    public var shardIndex: UInt32

    public static let maxEpoch: UInt64 = 1 << 36 - 1
    public static let maxIndex: UInt64 = 1 << 48 - 1

    public init(epoch: UInt64, index: LogIndex, slot: UInt16, arrivalSeconds: UInt64, shardIndex: UInt32) {
        precondition(epoch <= Self.maxEpoch, "shard epoch \(epoch) exceeds 36 bits")
        precondition(index.rawValue <= Self.maxIndex, "log index \(index) exceeds 48 bits")
        self.epoch = epoch
        self.index = index
        self.slot = slot
        self.arrivalSeconds = arrivalSeconds & (1 << 36 - 1)
        self.shardIndex = shardIndex
    }

    /// The position (index, slot) this number names, for iterators.
    public var position: LogPosition { LogPosition(index: index, slot: slot) }

    public static func < (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool {
        (lhs.epoch, lhs.index, lhs.slot, lhs.arrivalSeconds, lhs.shardIndex)
            < (rhs.epoch, rhs.index, rhs.slot, rhs.arrivalSeconds, rhs.shardIndex)
    }

    /// The 192-bit value as three 64-bit words, most significant first.
    private var words: (UInt64, UInt64, UInt64) {
        let counter = index.rawValue << 16 | UInt64(slot)
        // bits 0..3: 0; 4..35: shard index; 36..71: arrival; 72..79: 0; 80..143: counter; 144..147: 0;
        // 148..183: epoch; 184..187: version 2.
        let low = UInt64(shardIndex) << 4 | (arrivalSeconds & 0x0FFF_FFFF) << 36
        let mid = arrivalSeconds >> 28 | (counter & 0xFFFF_FFFF_FFFF) << 16
        let high = counter >> 48 | epoch << 20 | 2 << 56
        return (high, mid, low)
    }

    /// The 56-digit decimal form.
    public var description: String {
        var (high, mid, low) = words
        var chunks: [UInt64] = []
        let divisor: UInt64 = 10_000_000_000_000_000_000  // 10^19
        while high != 0 || mid != 0 || low != 0 {
            var remainder: UInt64 = 0
            (high, remainder) = divisor.dividingFullWidth((0, high))
            (mid, remainder) = divisor.dividingFullWidth((remainder, mid))
            (low, remainder) = divisor.dividingFullWidth((remainder, low))
            chunks.append(remainder)
        }
        guard let first = chunks.popLast() else { return "0" }
        var text = String(first)
        while let chunk = chunks.popLast() {
            let digits = String(chunk)
            text += String(repeating: "0", count: 19 - digits.count) + digits
        }
        return text
    }

    /// Parses a decimal string in the version-2 layout; nil for anything else.
    public init?(parsing text: String) {
        guard !text.isEmpty, text.utf8.count <= 60, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        var high: UInt64 = 0
        var mid: UInt64 = 0
        var low: UInt64 = 0
        for byte in text.utf8 {
            let digit = UInt64(byte - 0x30)
            let (lowHi, lowLo) = low.multipliedFullWidth(by: 10)
            let (midHi, midLo) = mid.multipliedFullWidth(by: 10)
            let (highHi, highLo) = high.multipliedFullWidth(by: 10)
            guard highHi == 0 else { return nil }
            var carry: UInt64
            var overflow: Bool
            (low, overflow) = lowLo.addingReportingOverflow(digit)
            carry = lowHi + (overflow ? 1 : 0)
            (mid, overflow) = midLo.addingReportingOverflow(carry)
            carry = midHi + (overflow ? 1 : 0)
            (high, overflow) = highLo.addingReportingOverflow(carry)
            guard !overflow else { return nil }
        }
        guard high >> 56 == 2, low & 0xF == 0, (high >> 16) & 0xF == 0, (mid >> 8) & 0xFF == 0 else { return nil }
        let counter = (high & 0xFFFF) << 48 | mid >> 16
        self.epoch = (high >> 20) & Self.maxEpoch
        self.index = LogIndex(counter >> 16)
        self.slot = UInt16(truncatingIfNeeded: counter)
        self.arrivalSeconds = (low >> 36) | (mid & 0xFF) << 28
        self.shardIndex = UInt32(truncatingIfNeeded: low >> 4)
    }
}

/// A record's place in a shard log: the entry's index and the record's slot within that entry.
public struct LogPosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var index: LogIndex
    public var slot: UInt16
    public init(index: LogIndex, slot: UInt16) {
        self.index = index
        self.slot = slot
    }
    public static func < (lhs: LogPosition, rhs: LogPosition) -> Bool { (lhs.index, lhs.slot) < (rhs.index, rhs.slot) }
    public var description: String { "\(index).\(slot)" }
}
