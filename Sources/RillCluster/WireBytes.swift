import RillModel

/// Big-endian writer and reader for the node-to-node RPC payloads (`PeerCall`, `PeerAnswer`).
package struct WireWriter {
    private(set) var bytes: [UInt8] = []

    package init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    package mutating func u8(_ value: UInt8) { bytes.append(value) }
    package mutating func u32(_ value: UInt32) { integer(UInt64(value), width: 4) }
    package mutating func u64(_ value: UInt64) { integer(value, width: 8) }
    package mutating func i64(_ value: Int64) { u64(UInt64(bitPattern: value)) }
    package mutating func bytes(_ value: [UInt8]) {
        u32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }
    package mutating func string(_ value: String) { bytes(Array(value.utf8)) }
    package mutating func optionalString(_ value: String?) {
        u8(value == nil ? 0 : 1)
        if let value { string(value) }
    }

    private mutating func integer(_ value: UInt64, width: Int) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}

/// A payload that does not decode: from a peer of another version, or damaged. Never a trap.
package struct WireError: Error, CustomStringConvertible {
    package var description: String
}

package struct WireReader {
    private let buffer: [UInt8]
    private var offset = 0

    package init(_ bytes: [UInt8]) { self.buffer = bytes }

    package var isAtEnd: Bool { offset == buffer.count }
    /// Bytes not read yet.
    package var remaining: Int { buffer.count - offset }

    package mutating func u8() throws(WireError) -> UInt8 { UInt8(try integer(width: 1)) }
    package mutating func u32() throws(WireError) -> UInt32 { UInt32(try integer(width: 4)) }
    package mutating func u64() throws(WireError) -> UInt64 { try integer(width: 8) }
    package mutating func i64() throws(WireError) -> Int64 { Int64(bitPattern: try u64()) }
    package mutating func bytes() throws(WireError) -> [UInt8] {
        let count = Int(try u32())
        guard count <= buffer.count - offset else { throw WireError(description: "length \(count) past the end") }
        defer { offset += count }
        return Array(buffer[offset..<offset + count])
    }
    package mutating func string() throws(WireError) -> String { String(decoding: try bytes(), as: UTF8.self) }
    package mutating func optionalString() throws(WireError) -> String? { try u8() == 0 ? nil : try string() }

    private mutating func integer(width: Int) throws(WireError) -> UInt64 {
        guard width <= buffer.count - offset else { throw WireError(description: "truncated at \(offset)") }
        var value: UInt64 = 0
        for i in 0..<width { value = value << 8 | UInt64(buffer[offset + i]) }
        offset += width
        return value
    }
}

/// Raft group ids and log positions on the RPC channel: `u8 0` for the metadata group, `u8 1 | string streamID |
/// u32 shard` for a shard (the layout of the Raft frames, `PeerFrame`).
extension WireWriter {
    package mutating func group(_ group: RaftGroupID) {
        switch group {
        case .meta: u8(0)
        case .shard(let streamID, let shard):
            u8(1)
            string(streamID)
            u32(shard.index)
        }
    }
}

extension WireReader {
    package mutating func group() throws(WireError) -> RaftGroupID {
        switch try u8() {
        case 0: return .meta
        case 1: return .shard(streamID: try string(), shard: ShardID(index: try u32()))
        case let tag: throw WireError(description: "group tag \(tag)")
        }
    }

    /// A log index; past `Int64.max` is refused (`LogIndex` strides in `Int64`).
    package mutating func logIndex() throws(WireError) -> LogIndex {
        let value = try u64()
        guard value <= UInt64(Int64.max) else { throw WireError(description: "log index \(value)") }
        return LogIndex(value)
    }
}
