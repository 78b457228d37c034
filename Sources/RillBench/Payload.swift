import NIOCore
import RillKinesis
import RillModel

/// Builds PutRecord and PutRecords bodies by splicing fragments encoded once at start-up, in JSON or CBOR.
///
/// Record data comes from a pool of random blobs already encoded (base64 text in JSON, byte strings in
/// CBOR), so a 500-record body costs a memory copy plus 500 random partition keys, not 500 encodings.
/// Keys are 16 random hex digits: MD5 spreads them evenly over the hash space, hence over every shard.
struct PayloadFactory: Sendable {
    let recordBytes: Int
    let wire: WireProtocol
    /// The stream name member followed by the start of the next one: `"StreamName":"<name>",` in JSON.
    private let streamMember: [UInt8]
    /// Each pre-generated blob as `"Data":"<base64>","PartitionKey":"` (JSON) or `dData <bytes> lPartitionKey p`
    /// (CBOR: text heads, the byte string, and the head of a 16-byte text key).
    private let dataFragments: [[UInt8]]
    private let fragmentBytes: Int

    /// Distinct blobs in the pool; enough that consecutive records rarely repeat.
    static let poolSize = 256
    static let keyDigits = 16

    init(streamName: String, recordBytes: Int, seed: UInt64, wire: WireProtocol = .json) {
        self.recordBytes = recordBytes
        self.wire = wire
        var rng = SplitMix64(seed: seed)
        var fragments: [[UInt8]] = []
        for _ in 0..<Self.poolSize {
            var blob = [UInt8](repeating: 0, count: recordBytes)
            for i in blob.indices { blob[i] = UInt8(truncatingIfNeeded: rng.next()) }
            switch wire {
            case .json:
                var fragment = Array(#""Data":""#.utf8)
                Base64.encode(blob, into: &fragment)
                fragment += Array(#"","PartitionKey":""#.utf8)
                fragments.append(fragment)
            case .cbor:
                var writer = CBORWriter(capacity: recordBytes + 32)
                writer.text("Data")
                writer.bytes(blob)
                writer.text("PartitionKey")
                fragments.append(writer.bytes + [0x60 | UInt8(Self.keyDigits)])
            }
        }
        switch wire {
        case .json:
            var name = JSONWriter()
            name.string(streamName)
            streamMember = Array(#""StreamName":"#.utf8) + name.bytes + [UInt8(ascii: ",")]
        case .cbor:
            var writer = CBORWriter()
            writer.text("StreamName")
            writer.text(streamName)
            streamMember = writer.bytes
        }
        dataFragments = fragments
        fragmentBytes = fragments[0].count
    }

    /// `{"StreamName":…,"Records":[{"Data":…,"PartitionKey":…},…]}` with `count` records.
    func putRecordsBody(count: Int, rng: inout SplitMix64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: streamMember.count + 24 + count * (fragmentBytes + Self.keyDigits + 4))
        switch wire {
        case .json:
            buffer.writeInteger(UInt8(ascii: "{"))
            buffer.writeBytes(streamMember)
            buffer.writeStaticString(#""Records":["#)
            for i in 0..<count {
                if i > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                buffer.writeInteger(UInt8(ascii: "{"))
                appendRecord(to: &buffer, rng: &rng)
                buffer.writeInteger(UInt8(ascii: "}"))
            }
            buffer.writeStaticString("]}")
        case .cbor:
            buffer.writeInteger(UInt8(0xA2))  // a map of two: StreamName, Records
            buffer.writeBytes(streamMember)
            buffer.writeBytes([0x67] + Array("Records".utf8))
            // An array head for up to 500 items: the count inline, or in one or two bytes after.
            if count < 24 {
                buffer.writeInteger(UInt8(0x80 | count))
            } else if count < 256 {
                buffer.writeBytes([0x98, UInt8(count)])
            } else {
                buffer.writeInteger(UInt8(0x99))
                buffer.writeInteger(UInt16(count))
            }
            for _ in 0..<count {
                buffer.writeInteger(UInt8(0xA2))  // Data, PartitionKey
                appendRecord(to: &buffer, rng: &rng)
            }
        }
        return buffer
    }

    /// `{"StreamName":…,"Data":…,"PartitionKey":…}`.
    func putRecordBody(rng: inout SplitMix64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: streamMember.count + fragmentBytes + Self.keyDigits + 4)
        buffer.writeInteger(wire == .json ? UInt8(ascii: "{") : 0xA3)  // CBOR: StreamName, Data, PartitionKey
        buffer.writeBytes(streamMember)
        appendRecord(to: &buffer, rng: &rng)
        if wire == .json { buffer.writeInteger(UInt8(ascii: "}")) }
        return buffer
    }

    /// The data fragment and a random 16-hex-digit key (JSON: the fragment opens the key's quotes; this
    /// closes them).
    private func appendRecord(to buffer: inout ByteBuffer, rng: inout SplitMix64) {
        let draw = rng.next()
        buffer.writeBytes(dataFragments[Int(draw % UInt64(dataFragments.count))])
        let key = rng.next()
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.keyDigits) { raw in
            let digits: StaticString = "0123456789abcdef"
            for i in 0..<Self.keyDigits {
                let nibble = Int((key >> UInt64(4 * i)) & 0xF)
                raw[i] = digits.utf8Start[nibble]
            }
            return Self.keyDigits
        }
        if wire == .json { buffer.writeInteger(UInt8(ascii: "\"")) }
    }
}
