import NIOCore
import RillKinesis
import RillModel


/// Builds PutRecord and PutRecords bodies by splicing JSON fragments encoded once at start-up.
///
/// Record data comes from a pool of random blobs already in base64, so a 500-record body costs a
/// memory copy plus 500 random partition keys, not 500 base64 encodings. Keys are 16 random hex
/// digits: MD5 spreads them evenly over the hash space, hence over every shard.
struct PayloadFactory: Sendable {
    let recordBytes: Int
    /// `{"StreamName":"<name>",`, the opening of every put body.
    private let streamPrefix: [UInt8]
    /// `"Data":"<base64>","PartitionKey":"` for each pre-generated blob.
    private let dataFragments: [[UInt8]]
    private let fragmentBytes: Int

    /// Distinct blobs in the pool; enough that consecutive records rarely repeat.
    static let poolSize = 256
    static let keyDigits = 16

    init(streamName: String, recordBytes: Int, seed: UInt64) {
        self.recordBytes = recordBytes
        var name = JSONWriter()
        name.string(streamName)
        streamPrefix = Array(#"{"StreamName":"#.utf8) + name.bytes + [UInt8(ascii: ",")]
        var rng = SplitMix64(seed: seed)
        var fragments: [[UInt8]] = []
        for _ in 0..<Self.poolSize {
            var blob = [UInt8](repeating: 0, count: recordBytes)
            for i in blob.indices { blob[i] = UInt8(truncatingIfNeeded: rng.next()) }
            var fragment = Array(#""Data":""#.utf8)
            Base64.encode(blob, into: &fragment)
            fragment += Array(#"","PartitionKey":""#.utf8)
            fragments.append(fragment)
        }
        dataFragments = fragments
        fragmentBytes = fragments[0].count
    }

    /// `{"StreamName":…,"Records":[{"Data":…,"PartitionKey":…},…]}` with `count` records.
    func putRecordsBody(count: Int, rng: inout SplitMix64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: streamPrefix.count + 16 + count * (fragmentBytes + Self.keyDigits + 4))
        buffer.writeBytes(streamPrefix)
        buffer.writeStaticString(#""Records":["#)
        for i in 0..<count {
            if i > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            buffer.writeInteger(UInt8(ascii: "{"))
            appendRecord(to: &buffer, rng: &rng)
            buffer.writeInteger(UInt8(ascii: "}"))
        }
        buffer.writeStaticString("]}")
        return buffer
    }

    /// `{"StreamName":…,"Data":…,"PartitionKey":…}`.
    func putRecordBody(rng: inout SplitMix64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: streamPrefix.count + fragmentBytes + Self.keyDigits + 4)
        buffer.writeBytes(streamPrefix)
        appendRecord(to: &buffer, rng: &rng)
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer
    }

    /// `"Data":"…","PartitionKey":"<16 hex>"` (the fragment opens the key's quotes; this closes them).
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
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
