import RillModel

/// One sparse-index record: where an entry starts and the running maximum stamp up to and including it.
struct IndexRecord: Sendable, Equatable {
    var index: LogIndex
    var position: Int64
    var runningMaxTimestamp: Int64
}

/// The sparse index of one segment: a record for its first entry and then one at least every
/// `indexInterval` bytes. It maps index → file position and, through the running-maximum stamps, which
/// never decrease, time → index (Kafka's `OffsetIndex` and `TimeIndex` in one).
///
/// File `<base>.idx`, written whole when its segment stops being the active one and never trusted unless every
/// check passes; otherwise the segment is scanned and the file rewritten ("in the event of a crash it is
/// rebuilt", Kafka `OffsetIndex.java`). The active segment's index lives only in memory. Little-endian:
///
///     offset      size      field
///     0           7         magic "RILLIDX"
///     7           1         format version (1)
///     8           8         segment base index, u64
///     16          24 × n    records: index u64, position u64, running max stamp i64
///     16 + 24n    8         segment last index, u64
///     +8          8         segment last term, u64
///     +16         8         segment size in bytes, u64; must equal the .log file's length
///     +24         8         segment running max stamp, i64
///     +32         8         record count n, u64
///     +40         4         CRC-32C of every preceding byte
struct SegmentIndex: Sendable {
    private static let magic = Array("RILLIDX".utf8)
    private static let headerSize = 16
    private static let recordSize = 24
    private static let trailerSize = 44

    var records: [IndexRecord] = []

    /// The last record at or before `index`.
    func floor(_ index: LogIndex) -> IndexRecord? {
        var low = 0
        var high = records.count
        while low < high {
            let middle = (low + high) / 2
            if records[middle].index <= index { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : records[low - 1]
    }

    /// The position of the first record whose running maximum reaches `millis`, or `records.count`.
    func firstReaching(_ millis: Int64) -> Int {
        var low = 0
        var high = records.count
        while low < high {
            let middle = (low + high) / 2
            if records[middle].runningMaxTimestamp < millis { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Drops records for entries above `index` (after a suffix truncation).
    mutating func removeRecords(after index: LogIndex) {
        while let last = records.last, last.index > index { records.removeLast() }
    }

    // MARK: - File

    func encoded(for segment: Segment) -> [UInt8] {
        var bytes = Self.magic
        bytes.reserveCapacity(Self.headerSize + Self.recordSize * records.count + Self.trailerSize)
        bytes.append(1)
        bytes.appendLE(segment.baseIndex.rawValue)
        for record in records {
            bytes.appendLE(record.index.rawValue)
            bytes.appendLE(UInt64(record.position))
            bytes.appendLE(record.runningMaxTimestamp)
        }
        bytes.appendLE(segment.lastIndex.rawValue)
        bytes.appendLE(segment.lastTerm.rawValue)
        bytes.appendLE(UInt64(segment.size))
        bytes.appendLE(segment.maxTimestamp)
        bytes.appendLE(UInt64(records.count))
        bytes.appendLE(CRC32C.checksum(bytes))
        return bytes
    }

    /// What an index file says about its segment, once every check has passed.
    struct Loaded {
        var index: SegmentIndex
        var lastIndex: LogIndex
        var lastTerm: Term
        var maxTimestamp: Int64
    }

    /// Parses an index file for the segment at `base` whose .log is `segmentSize` bytes; nil unless the file
    /// is complete, matches its CRC, describes a file of exactly that size and is internally consistent, so a
    /// stale or damaged index can never give a wrong answer.
    static func load(_ bytes: [UInt8], base: LogIndex, segmentSize: Int64) -> Loaded? {
        guard bytes.count >= headerSize + trailerSize, (bytes.count - headerSize - trailerSize) % recordSize == 0
        else { return nil }
        return bytes.withUnsafeBytes { raw -> Loaded? in
            let trailer = raw.count - trailerSize
            guard raw.crc(from: 0, count: raw.count - 4) == raw.u32(at: raw.count - 4),
                Array(raw[0..<7]) == magic, raw[7] == 1, raw.u64(at: 8) == base.rawValue
            else { return nil }
            let count = (trailer - headerSize) / recordSize
            let lastIndex = raw.u64(at: trailer)
            guard raw.u64(at: trailer + 32) == UInt64(count), raw.u64(at: trailer + 16) == UInt64(segmentSize),
                lastIndex >= base.rawValue - 1, lastIndex < 1 << 62, (count == 0) == (lastIndex < base.rawValue)
            else { return nil }
            var index = SegmentIndex()
            index.records.reserveCapacity(count)
            var previous: IndexRecord?
            for i in 0..<count {
                let offset = headerSize + i * recordSize
                let record = IndexRecord(
                    index: LogIndex(raw.u64(at: offset)),
                    position: Int64(bitPattern: raw.u64(at: offset + 8)),
                    runningMaxTimestamp: raw.i64(at: offset + 16)
                )
                guard record.index.rawValue <= lastIndex, record.position < segmentSize else { return nil }
                if let previous {
                    guard record.index > previous.index, record.position > previous.position,
                        record.runningMaxTimestamp >= previous.runningMaxTimestamp
                    else { return nil }
                } else {
                    guard record.index == base, record.position == Segment.headerSize else { return nil }
                }
                index.records.append(record)
                previous = record
            }
            let maxTimestamp = raw.i64(at: trailer + 24)
            if let previous, maxTimestamp < previous.runningMaxTimestamp { return nil }
            return Loaded(
                index: index,
                lastIndex: LogIndex(lastIndex),
                lastTerm: Term(raw.u64(at: trailer + 8)),
                maxTimestamp: maxTimestamp
            )
        }
    }
}
