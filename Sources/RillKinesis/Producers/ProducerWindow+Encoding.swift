import RillModel

/// The window as snapshot state (`Raft.Snapshot.state`), big-endian:
///
///     u8 version (1) | i64 last expiry look (log time) | u32 producer count, then per producer, sorted by id:
///     u16 id length | id (UTF-8) | u64 highest | u8 has forgotten | u64 forgotten through | i64 last seen |
///     u32 record count | per record, oldest first: u64 sequence | u64 entry index | u16 slot | i64 stamp
///
/// Sorted, so every replica encodes the same window to the same bytes.
extension ProducerWindow {
    public struct DecodeError: Error, Sendable {}

    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 + producers.values.reduce(0) { $0 + 48 + $1.committed.count * 26 })
        bytes.append(1)
        bytes.appendBE(UInt64(bitPattern: lastExpiryMillis))
        bytes.appendBE(UInt32(producers.count))
        for (id, state) in producers.sorted(by: { $0.key < $1.key }) {
            bytes.appendBE(UInt16(id.utf8.count))
            bytes.append(contentsOf: id.utf8)
            bytes.appendBE(state.highest)
            bytes.append(state.forgottenThrough == nil ? 0 : 1)
            bytes.appendBE(state.forgottenThrough ?? 0)
            bytes.appendBE(UInt64(bitPattern: state.lastSeenMillis))
            let committed = state.committed.elements
            bytes.appendBE(UInt32(committed.count))
            for record in committed {
                bytes.appendBE(record.sequence)
                bytes.appendBE(record.position.index.rawValue)
                bytes.appendBE(record.position.slot)
                bytes.appendBE(UInt64(bitPattern: record.position.stampMillis))
            }
        }
        return bytes
    }

    /// Decodes `encoded()`; empty bytes are an empty window. Damaged bytes throw, never trap.
    public init(decoding bytes: [UInt8], limits: Limits = Limits()) throws(DecodeError) {
        self.init(limits: limits)
        guard !bytes.isEmpty else { return }
        var reader = BigEndianReader(bytes: bytes)
        guard try reader.u8() == 1 else { throw DecodeError() }
        lastExpiryMillis = Int64(bitPattern: try reader.u64())
        let count = Int(try reader.u32())
        for _ in 0..<count {
            let length = Int(try reader.u16())
            let id = String(decoding: try reader.take(length), as: UTF8.self)
            let highest = try reader.u64()
            let hasForgotten = try reader.u8() == 1
            let forgotten = try reader.u64()
            let lastSeen = Int64(bitPattern: try reader.u64())
            let records = Int(try reader.u32())
            var state = Producer(
                committed: Ring(capacity: max(1, limits.window)),
                highest: highest,
                forgottenThrough: hasForgotten ? forgotten : nil,
                lastSeenMillis: lastSeen
            )
            for _ in 0..<records {
                let record = Committed(
                    sequence: try reader.u64(),
                    position: RecordPosition(
                        index: LogIndex(try reader.u64()),
                        slot: try reader.u16(),
                        stampMillis: Int64(bitPattern: try reader.u64())
                    )
                )
                // A smaller window than the one saved keeps the newest records and remembers what it dropped.
                if let evicted = state.committed.append(record) {
                    state.forgottenThrough = max(state.forgottenThrough ?? 0, evicted.sequence)
                }
            }
            producers[id] = state
        }
        guard reader.isAtEnd else { throw DecodeError() }
    }
}

private struct BigEndianReader {
    let bytes: [UInt8]
    var offset = 0

    var isAtEnd: Bool { offset == bytes.count }

    mutating func take(_ count: Int) throws(ProducerWindow.DecodeError) -> ArraySlice<UInt8> {
        guard count >= 0, offset + count <= bytes.count else { throw ProducerWindow.DecodeError() }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func integer<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) throws(ProducerWindow.DecodeError) -> T {
        var value: T = 0
        for byte in try take(MemoryLayout<T>.size) { value = value << 8 | T(byte) }
        return value
    }

    mutating func u8() throws(ProducerWindow.DecodeError) -> UInt8 { try integer(UInt8.self) }
    mutating func u16() throws(ProducerWindow.DecodeError) -> UInt16 { try integer(UInt16.self) }
    mutating func u32() throws(ProducerWindow.DecodeError) -> UInt32 { try integer(UInt32.self) }
    mutating func u64() throws(ProducerWindow.DecodeError) -> UInt64 { try integer(UInt64.self) }
}

extension [UInt8] {
    fileprivate mutating func appendBE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
