import RillModel

/// The content of a log's `logstart` file, replaced atomically by `trimPrefix`. Little-endian:
///
///     offset  size  field
///     0       8     log start index, u64
///     8       8     term of the entry before it, u64 (0 if unknown)
///     16      4     CRC-32C of bytes 0..<16
///
/// or, when the owner keeps something with the log start (the Raft configuration in force there):
///
///     0       8     log start index, u64
///     8       8     term of the entry before it, u64
///     16      4     context length n, u32
///     20      n     context
///     20+n    4     CRC-32C of bytes 0..<20+n
struct LogStart: Equatable {
    static let fileName = "logstart"
    /// A context is a configuration (a few dozen bytes) and a shard's producer window (up to a few MB);
    /// anything near this is damage.
    static let maxContext = 32 << 20

    var index: LogIndex
    var termBefore: Term
    var context: [UInt8] = []

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLE(index.rawValue)
        bytes.appendLE(termBefore.rawValue)
        if !context.isEmpty {
            bytes.appendLE(UInt32(context.count))
            bytes.append(contentsOf: context)
        }
        bytes.appendLE(CRC32C.checksum(bytes))
        return bytes
    }

    /// Nil unless `bytes` is exactly a valid record with a start index in 1..<2^62.
    init?(decoding bytes: [UInt8]) {
        guard bytes.count == 20 || (bytes.count > 24 && bytes.count <= 24 + Self.maxContext) else { return nil }
        let parsed = bytes.withUnsafeBytes { raw -> (UInt64, UInt64, Int)? in
            let body = bytes.count - 4
            guard raw.crc(from: 0, count: body) == raw.u32(at: body) else { return nil }
            let contextLength = bytes.count == 20 ? 0 : Int(raw.u32(at: 16))
            guard bytes.count == 20 || contextLength == bytes.count - 24 else { return nil }
            return (raw.u64(at: 0), raw.u64(at: 8), contextLength)
        }
        guard let (index, term, contextLength) = parsed, index >= 1, index < 1 << 62 else { return nil }
        self.index = LogIndex(index)
        self.termBefore = Term(term)
        self.context = contextLength == 0 ? [] : Array(bytes[20..<20 + contextLength])
    }

    init(index: LogIndex, termBefore: Term, context: [UInt8] = []) {
        self.index = index
        self.termBefore = termBefore
        self.context = context
    }
}
