import RillModel

/// How one `LogEntry` is framed in a segment file. All integers little-endian.
///
///     offset  size  field
///     0       4     length     u32, bytes after the CRC field (25 + payload length)
///     4       4     crc        u32, CRC-32C of the `length` bytes that follow
///     8       8     term       u64
///     16      8     index      u64
///     24      1     kind       u8, an `EntryKind` raw value
///     25      8     timestamp  i64, epoch milliseconds
///     33      n     payload
///
/// A frame is valid only if its length fits the file, its CRC matches and its kind is known; recovery also
/// requires the index to be the one expected at that position.
enum EntryFrame {
    static let prefixSize = 8
    static let headerSize = 33
    static let minimumLength = headerSize - prefixSize
    /// Lengths above this are treated as garbage rather than trusted for an allocation.
    static let maximumLength = 1 << 30

    /// The fields of a validated frame, without copying its payload.
    struct Header {
        var term: Term
        var index: LogIndex
        var kind: EntryKind
        var timestampMillis: Int64
        /// The frame's total size on disk, prefix included.
        var size: Int
    }

    enum Decoded {
        case frame(Header)
        /// The buffer ends before the frame does; `needed` bytes from the frame start would hold it.
        case incomplete(needed: Int)
        case invalid(reason: String)
    }

    static func encodedSize(_ entry: LogEntry) -> Int { headerSize + entry.payload.count }

    /// Appends the framed `entry` to `buffer`: one copy of the payload and one CRC pass over it.
    static func encode(_ entry: LogEntry, into buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.appendLE(UInt32(minimumLength + entry.payload.count))
        buffer.appendLE(UInt32(0))
        buffer.appendLE(entry.term.rawValue)
        buffer.appendLE(entry.index.rawValue)
        buffer.append(entry.kind.rawValue)
        buffer.appendLE(entry.timestampMillis)
        buffer.append(contentsOf: entry.payload)
        let crc = buffer.withUnsafeBytes { $0.crc(from: start + prefixSize, count: buffer.count - start - prefixSize) }
        buffer.storeLE(crc, at: start + 4)
    }

    /// Validates the frame starting at `offset` in `bytes`.
    static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Decoded {
        let available = bytes.count - offset
        guard available >= prefixSize else { return .incomplete(needed: prefixSize) }
        let length = Int(bytes.u32(at: offset))
        guard length >= minimumLength, length <= maximumLength else {
            return .invalid(reason: "frame length \(length) out of range")
        }
        guard available >= prefixSize + length else { return .incomplete(needed: prefixSize + length) }
        guard bytes.crc(from: offset + prefixSize, count: length) == bytes.u32(at: offset + 4) else {
            return .invalid(reason: "CRC mismatch")
        }
        guard let kind = EntryKind(rawValue: bytes[offset + 24]) else {
            return .invalid(reason: "unknown entry kind \(bytes[offset + 24])")
        }
        return .frame(
            Header(
                term: Term(bytes.u64(at: offset + 8)),
                index: LogIndex(bytes.u64(at: offset + 16)),
                kind: kind,
                timestampMillis: bytes.i64(at: offset + 25),
                size: prefixSize + length
            )
        )
    }

    /// Whether a valid frame with an index in `minimumIndex ..< minimumIndex + 2^32` starts anywhere in
    /// `bytes` at or after `offset`. Recovery uses it to tell a torn tail (nothing valid after the bad frame)
    /// from damage (a valid entry after a bad one). The index window keeps random bytes from costing a CRC.
    static func containsValidFrame(_ bytes: UnsafeRawBufferPointer, from offset: Int, minimumIndex: LogIndex) -> Bool {
        var position = offset
        while bytes.count - position >= headerSize {
            let length = Int(bytes.u32(at: position))
            if length >= minimumLength, length <= bytes.count - position - prefixSize {
                let index = bytes.u64(at: position + 16)
                if index >= minimumIndex.rawValue, index - minimumIndex.rawValue < 1 << 32,
                    case .frame = decode(bytes, at: position)
                {
                    return true
                }
            }
            position += 1
        }
        return false
    }
}
