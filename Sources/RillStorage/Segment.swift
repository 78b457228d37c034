import RillModel

/// One segment of a `SegmentedLog`: a file of consecutive entries starting at `baseIndex`, and what we know
/// about it in memory.
///
/// File `<base>.log`, named by its first index zero-padded to 20 digits so `ls` sorts it (Kafka
/// `LogFileUtils.filenamePrefixFromOffset`). It starts with a 20-byte header, little-endian:
///
///     offset  size  field
///     0       7     magic "RILLSEG"
///     7       1     format version (1)
///     8       8     base index, u64; must match the file name
///     16      4     CRC-32C of bytes 0..<16
///
/// then `EntryFrame`s back to back, indexes `baseIndex`, `baseIndex + 1`, ... with no gaps.
struct Segment: Sendable {
    static let headerSize: Int64 = 20
    static let formatVersion: UInt8 = 1
    private static let magic = Array("RILLSEG".utf8)

    let baseIndex: LogIndex
    let file: any StorageFile
    /// Bytes of valid data: the header and every complete frame. Appends go here.
    var size: Int64
    /// `baseIndex - 1` while the segment is empty.
    var lastIndex: LogIndex
    var lastTerm: Term
    /// The running maximum of entry stamps at the segment's last entry, carried over from earlier segments;
    /// `Int64.min` before any stamp. At least the largest stamp in the segment, so retention never trims early.
    var maxTimestamp: Int64
    var index: SegmentIndex
    /// Bytes appended since the last sparse-index record.
    var bytesSinceIndexRecord: Int64 = 0

    var isEmpty: Bool { lastIndex < baseIndex }

    // MARK: - Names

    static func fileStem(_ base: LogIndex) -> String {
        let digits = String(base.rawValue)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    static func logPath(directory: String, base: LogIndex) -> String { "\(directory)/\(fileStem(base)).log" }
    static func indexPath(directory: String, base: LogIndex) -> String { "\(directory)/\(fileStem(base)).idx" }

    /// The base index of a segment file name, or nil for any other file. Bases above 2^62 are refused so
    /// index arithmetic on them cannot overflow.
    static func base(ofFileName name: String) -> LogIndex? {
        guard name.utf8.count == 24, name.hasSuffix(".log") else { return nil }
        let digits = name.utf8.prefix(20)
        guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = UInt64(String(name.prefix(20))),
            value > 0, value < 1 << 62
        else { return nil }
        return LogIndex(value)
    }

    // MARK: - Header

    static func header(base: LogIndex) -> [UInt8] {
        var bytes = magic
        bytes.append(formatVersion)
        bytes.appendLE(base.rawValue)
        bytes.appendLE(CRC32C.checksum(bytes))
        return bytes
    }

    /// Why `bytes` is not a valid header for a segment based at `base`, or nil when it is.
    static func headerProblem(_ bytes: [UInt8], base: LogIndex) -> String? {
        guard bytes.count >= Int(headerSize) else { return "short header (\(bytes.count) bytes)" }
        return bytes.withUnsafeBytes { raw -> String? in
            guard raw.crc(from: 0, count: 16) == raw.u32(at: 16) else { return "header CRC mismatch" }
            guard Array(raw[0..<7]) == magic else { return "bad magic" }
            guard raw[7] == formatVersion else { return "unsupported format version \(raw[7])" }
            guard raw.u64(at: 8) == base.rawValue else { return "header base \(raw.u64(at: 8)) differs from name" }
            return nil
        }
    }

    // MARK: - Lifecycle

    /// Creates an empty segment file with its header (page cache only; the caller syncs file and directory).
    static func create(
        directory: String,
        base: LogIndex,
        lastTerm: Term,
        maxTimestamp: Int64,
        fileSystem: any FileSystem
    ) throws(StorageError) -> Segment {
        let file = try fileSystem.open(path: logPath(directory: directory, base: base), create: true, truncate: true)
        try file.write(header(base: base), at: 0)
        return Segment(
            baseIndex: base,
            file: file,
            size: headerSize,
            lastIndex: base.previous,
            lastTerm: lastTerm,
            maxTimestamp: maxTimestamp,
            index: SegmentIndex()
        )
    }

    /// Accounts for a frame of `header.size` bytes written at `position`: the one place that decides where
    /// sparse-index records go, shared by appends and by rebuilding from the file.
    mutating func noteFrame(_ header: EntryFrame.Header, at position: Int64, indexInterval: Int) {
        maxTimestamp = max(maxTimestamp, header.timestampMillis)
        if isEmpty || bytesSinceIndexRecord >= indexInterval {
            index.records.append(
                IndexRecord(index: header.index, position: position, runningMaxTimestamp: maxTimestamp)
            )
            bytesSinceIndexRecord = 0
        }
        bytesSinceIndexRecord += Int64(header.size)
        lastIndex = header.index
        lastTerm = header.term
        size = position + Int64(header.size)
    }
}
