import RillModel

/// The window as snapshot state (`Raft.Snapshot.state`), big-endian:
///
///     u8 version (1) | i64 last expiry look (log time) | u32 producer count, then per producer, sorted by id:
///     u16 id length | id (UTF-8) | u64 highest | u8 has forgotten | u64 forgotten through | i64 last seen |
///     u32 record count | per record, oldest first: u64 sequence | u64 entry index | u16 slot | i64 stamp
///
/// Version 2, for a window that took over its parents' (`inherit(_:)`): after the last expiry look, u8 inherited
/// | u32 origin count | per origin, sorted: u32 shard index | u64 epoch; and each record ends with u32 origin
/// (0: this shard, n: the n-th origin). A window that took nothing over is written as version 1, so older
/// builds read what they did.
///
/// Sorted, so every replica encodes the same window to the same bytes.
extension ProducerWindow {
    public struct DecodeError: Error, Sendable {}

    public func encoded() -> [UInt8] {
        let origins = Set(producers.values.flatMap { $0.committed.elements.compactMap(\.position.origin) }).sorted()
        let version: UInt8 = inherited || !origins.isEmpty ? 2 : 1
        let numbers = Dictionary(uniqueKeysWithValues: origins.enumerated().map { ($1, UInt32($0 + 1)) })
        var bytes: [UInt8] = []
        bytes.reserveCapacity(
            32 + origins.count * 12 + producers.values.reduce(0) { $0 + 48 + $1.committed.count * 30 }
        )
        bytes.append(version)
        bytes.appendBE(UInt64(bitPattern: lastExpiryMillis))
        if version == 2 {
            bytes.append(inherited ? 1 : 0)
            bytes.appendBE(UInt32(origins.count))
            for origin in origins {
                bytes.appendBE(origin.index)
                bytes.appendBE(origin.epoch)
            }
        }
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
                if version == 2 { bytes.appendBE(record.position.origin.flatMap { numbers[$0] } ?? 0) }
            }
        }
        return bytes
    }

    /// Decodes `encoded()`; empty bytes are an empty window. Damaged bytes throw, never trap.
    public init(decoding bytes: [UInt8], limits: Limits = Limits()) throws(DecodeError) {
        self.init(limits: limits)
        guard !bytes.isEmpty else { return }
        var reader = BigEndianReader(bytes: bytes)
        let version = try reader.u8()
        guard version == 1 || version == 2 else { throw DecodeError() }
        lastExpiryMillis = Int64(bitPattern: try reader.u64())
        var origins: [ShardOrigin] = []
        if version == 2 {
            inherited = try reader.u8() == 1
            let count = Int(try reader.u32())
            // Bounded by what the bytes can hold before anything is reserved.
            guard count <= bytes.count / 12 else { throw DecodeError() }
            for _ in 0..<count {
                let origin = ShardOrigin(index: try reader.u32(), epoch: try reader.u64())
                // A sequence number holds 36 bits of epoch: a larger one is damage, not a shard.
                guard origin.epoch <= SequenceNumber.maxEpoch else { throw DecodeError() }
                origins.append(origin)
            }
        }
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
                var record = Committed(
                    sequence: try reader.u64(),
                    position: RecordPosition(
                        index: LogIndex(try reader.u64()),
                        slot: try reader.u16(),
                        stampMillis: Int64(bitPattern: try reader.u64())
                    )
                )
                if version == 2 {
                    let number = Int(try reader.u32())
                    guard number <= origins.count else { throw DecodeError() }
                    record.position.origin = number == 0 ? nil : origins[number - 1]
                }
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
