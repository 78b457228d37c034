import RillModel

/// The content of a log's `logstart` file, replaced atomically by `trimPrefix`. 20 bytes, little-endian:
///
///     offset  size  field
///     0       8     log start index, u64
///     8       8     term of the entry before it, u64 (0 if unknown)
///     16      4     CRC-32C of bytes 0..<16
struct LogStart: Equatable {
    static let fileName = "logstart"

    var index: LogIndex
    var termBefore: Term

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLE(index.rawValue)
        bytes.appendLE(termBefore.rawValue)
        bytes.appendLE(CRC32C.checksum(bytes))
        return bytes
    }

    /// Nil unless `bytes` is exactly a valid record with a start index in 1..<2^62.
    init?(decoding bytes: [UInt8]) {
        guard bytes.count == 20 else { return nil }
        let parsed = bytes.withUnsafeBytes { raw -> (UInt64, UInt64)? in
            guard raw.crc(from: 0, count: 16) == raw.u32(at: 16) else { return nil }
            return (raw.u64(at: 0), raw.u64(at: 8))
        }
        guard let (index, term) = parsed, index >= 1, index < 1 << 62 else { return nil }
        self.index = LogIndex(index)
        self.termBefore = Term(term)
    }

    init(index: LogIndex, termBefore: Term) {
        self.index = index
        self.termBefore = termBefore
    }
}
