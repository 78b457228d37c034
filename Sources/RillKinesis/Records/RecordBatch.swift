/// The payload of a `records` log entry: the client records of one proposal, in request order.
///
/// Format (big-endian): `count u16`, then per record `keyLength u16, key (UTF-8), dataLength u32, data`.
/// A record's slot is its position here; its sequence number follows from (entry index, slot).
public struct RecordBatch: Sendable, Equatable {
    public struct Record: Sendable, Equatable {
        public var partitionKey: String
        public var data: [UInt8]
        public init(partitionKey: String, data: [UInt8]) {
            self.partitionKey = partitionKey
            self.data = data
        }
    }

    public var records: [Record]
    public init(records: [Record]) { self.records = records }

    public func encoded() -> [UInt8] {
        var size = 2
        for record in records { size += 6 + record.partitionKey.utf8.count + record.data.count }
        var bytes = [UInt8]()
        bytes.reserveCapacity(size)
        Self.append(UInt64(records.count), width: 2, to: &bytes)
        for record in records {
            Self.append(UInt64(record.partitionKey.utf8.count), width: 2, to: &bytes)
            bytes.append(contentsOf: record.partitionKey.utf8)
            Self.append(UInt64(record.data.count), width: 4, to: &bytes)
            bytes.append(contentsOf: record.data)
        }
        return bytes
    }

    private static func append(_ value: UInt64, width: Int, to bytes: inout [UInt8]) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    public struct DecodeError: Error, Sendable {}

    /// Whether `bytes` is exactly one encoded batch, checked without copying records out.
    public static func isWellFormed(_ bytes: [UInt8]) -> Bool {
        func read(_ offset: Int, _ width: Int) -> Int? {
            guard offset + width <= bytes.count else { return nil }
            var value = 0
            for i in 0..<width { value = value << 8 | Int(bytes[offset + i]) }
            return value
        }
        guard let count = read(0, 2) else { return false }
        var offset = 2
        for _ in 0..<count {
            guard let keyLength = read(offset, 2) else { return false }
            offset += 2 + keyLength
            guard let dataLength = read(offset, 4) else { return false }
            offset += 4 + dataLength
        }
        return offset == bytes.count
    }

    /// Decodes a payload; a malformed one (damage the CRC missed, or a bug) is an error, never a trap.
    public init(decoding bytes: [UInt8]) throws(DecodeError) {
        var offset = 0
        func read(_ width: Int) throws(DecodeError) -> Int {
            guard offset + width <= bytes.count else { throw DecodeError() }
            var value = 0
            for i in 0..<width { value = value << 8 | Int(bytes[offset + i]) }
            offset += width
            return value
        }
        let count = try read(2)
        var records: [Record] = []
        records.reserveCapacity(count)
        for _ in 0..<count {
            let keyLength = try read(2)
            guard offset + keyLength <= bytes.count else { throw DecodeError() }
            let key = String(decoding: bytes[offset..<offset + keyLength], as: UTF8.self)
            offset += keyLength
            let dataLength = try read(4)
            guard offset + dataLength <= bytes.count else { throw DecodeError() }
            records.append(Record(partitionKey: key, data: Array(bytes[offset..<offset + dataLength])))
            offset += dataLength
        }
        self.records = records
    }
}
