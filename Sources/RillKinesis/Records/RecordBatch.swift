/// The payload of a `records` log entry: the client records of one proposal, in request order.
///
/// Format (big-endian): `count u16`, then per record `keyLength u16, key (UTF-8), dataLength u32, data`.
/// A record's slot is its position here; its sequence number follows from (entry index, slot).
///
/// The records of an idempotent producer (`ProducerStamp`) set the top bit of `count` (a batch holds at most 500
/// records) and end with `idLength u16, id (UTF-8)`, then one `u64` producer sequence per record. Replicas learn
/// the producer window from it as the entry applies; readers skip it. A batch encrypted at rest is laid out as
/// `SealedRecords.swift` says.
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
    /// The producer id and one producer sequence per record, for an idempotent producer's records.
    public var producer: ProducerStamp?
    public init(records: [Record], producer: ProducerStamp? = nil) {
        self.records = records
        self.producer = producer
    }

    static let producerFlag = 0x8000

    public func encoded() -> [UInt8] {
        var size = 2
        for record in records { size += 6 + record.partitionKey.utf8.count + record.data.count }
        if let producer { size += 2 + producer.producerID.utf8.count + 8 * producer.sequences.count }
        var bytes = [UInt8]()
        bytes.reserveCapacity(size)
        Self.append(UInt64(records.count | (producer == nil ? 0 : Self.producerFlag)), width: 2, to: &bytes)
        for record in records {
            Self.append(UInt64(record.partitionKey.utf8.count), width: 2, to: &bytes)
            bytes.append(contentsOf: record.partitionKey.utf8)
            Self.append(UInt64(record.data.count), width: 4, to: &bytes)
            bytes.append(contentsOf: record.data)
        }
        if let producer {
            Self.append(UInt64(producer.producerID.utf8.count), width: 2, to: &bytes)
            bytes.append(contentsOf: producer.producerID.utf8)
            for sequence in producer.sequences { Self.append(sequence, width: 8, to: &bytes) }
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
        guard let word = bytes.count >= 2 ? Int(bytes[0]) << 8 | Int(bytes[1]) : nil else { return false }
        let count = word & 0x3FFF
        var recordsEnd: Int?
        if word & sealedFlag != 0 {
            guard let end = sealedEnd(bytes) else { return false }
            recordsEnd = end
        }
        return bytes.withUnsafeBufferPointer { buffer in
            guard var offset = recordsEnd ?? plainRecordsEnd(buffer, count: count) else { return false }
            if word & producerFlag != 0 {
                guard let idLength = read(buffer, offset, 2) else { return false }
                offset += 2 + idLength + 8 * count
            }
            return offset == buffer.count
        }
    }

    /// A big-endian unsigned integer of `width` bytes at `offset`; nil where it would overrun `buffer`.
    private static func read(_ buffer: UnsafeBufferPointer<UInt8>, _ offset: Int, _ width: Int) -> Int? {
        guard offset >= 0, offset + width <= buffer.count else { return nil }
        var value = 0
        for i in 0..<width { value = value << 8 | Int(buffer[offset + i]) }
        return value
    }

    /// Where the `count` records of a plain (unsealed) batch end, found by walking their headers over the raw
    /// buffer (index checks and slices per record showed in profiles); nil where they overrun it.
    private static func plainRecordsEnd(_ buffer: UnsafeBufferPointer<UInt8>, count: Int) -> Int? {
        var offset = 2
        for _ in 0..<count {
            guard let keyLength = read(buffer, offset, 2) else { return nil }
            offset += 2 + keyLength
            guard let dataLength = read(buffer, offset, 4) else { return nil }
            offset += 4 + dataLength
        }
        return offset
    }

    /// The producer section that starts at `idStart` (the id, then `count` sequences to the end of `buffer`),
    /// whose bounds the caller checked.
    private static func stamp(
        _ buffer: UnsafeBufferPointer<UInt8>,
        idStart: Int,
        idLength: Int,
        count: Int
    ) -> ProducerStamp {
        let id = String(decoding: UnsafeBufferPointer(rebasing: buffer[idStart..<idStart + idLength]), as: UTF8.self)
        var sequences: [UInt64] = []
        sequences.reserveCapacity(count)
        var offset = idStart + idLength
        for _ in 0..<count {
            var value: UInt64 = 0
            for i in 0..<8 { value = value << 8 | UInt64(buffer[offset + i]) }
            sequences.append(value)
            offset += 8
        }
        return ProducerStamp(producerID: id, sequences: sequences)
    }

    /// The producer stamp of an encoded batch, read without copying the records (where entries apply); nil for
    /// a plain batch, after looking at one byte.
    public static func producerStamp(of bytes: [UInt8]) throws(DecodeError) -> ProducerStamp? {
        guard let first = bytes.first, Int(first) << 8 & producerFlag != 0 else { return nil }
        // Sealed records: the producer section follows the ciphertext, in the clear.
        var recordsEnd: Int?
        if Int(first) << 8 & sealedFlag != 0 {
            guard let end = sealedEnd(bytes) else { throw DecodeError() }
            recordsEnd = end
        }
        let stamp = bytes.withUnsafeBufferPointer { buffer -> ProducerStamp? in
            guard let word = read(buffer, 0, 2) else { return nil }
            let count = word & 0x3FFF
            guard let offset = recordsEnd ?? plainRecordsEnd(buffer, count: count),
                let idLength = read(buffer, offset, 2),
                offset + 2 + idLength + 8 * count == buffer.count
            else { return nil }
            return Self.stamp(buffer, idStart: offset + 2, idLength: idLength, count: count)
        }
        guard let stamp else { throw DecodeError() }
        return stamp
    }

    /// `producerStamp(of:)` for a batch known to be well formed (a committed entry, or one `isWellFormed`
    /// accepted), read from its end: the sequences are its last `8 × count` bytes and the id ends where they
    /// start, so the records are not walked. Walking them touched one cache line per record on every replica
    /// and showed in profiles. The id's length is the first zero byte before it (an id's characters are never
    /// zero, its length is 1–128); if the tail does not read that way, the records are walked after all.
    public static func producerStamp(ofWellFormed bytes: [UInt8]) throws(DecodeError) -> ProducerStamp? {
        guard bytes.count >= 2, Int(bytes[0]) << 8 & producerFlag != 0 else { return nil }
        let count = (Int(bytes[0]) << 8 | Int(bytes[1])) & 0x3FFF
        let stamp = bytes.withUnsafeBufferPointer { buffer -> ProducerStamp? in
            let sequencesStart = buffer.count - 8 * count
            guard sequencesStart >= 4 else { return nil }
            var lengthAt = sequencesStart - 2
            while lengthAt >= 2, sequencesStart - lengthAt <= ProducerStamp.maxIDLength + 2, buffer[lengthAt] != 0 {
                lengthAt -= 1
            }
            guard lengthAt >= 2, buffer[lengthAt] == 0 else { return nil }
            let idLength = Int(buffer[lengthAt + 1])
            guard idLength >= 1, lengthAt + 2 + idLength == sequencesStart else { return nil }
            return Self.stamp(buffer, idStart: lengthAt + 2, idLength: idLength, count: count)
        }
        if let stamp { return stamp }
        return try producerStamp(of: bytes)
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
        let word = try read(2)
        // A sealed batch is opened first (`RecordBatch.open`).
        guard word & Self.sealedFlag == 0 else { throw DecodeError() }
        let count = word & ~Self.producerFlag
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
        self.producer = nil
        if word & Self.producerFlag != 0 { self.producer = try Self.producerStamp(of: bytes) }
    }
}
