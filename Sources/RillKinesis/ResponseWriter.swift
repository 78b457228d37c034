/// What a reply writer does, so a hot reply (GetRecords) is written once, straight into the client's
/// encoding: `JSONWriter` writes AWS JSON 1.1, `CBORWriter` CBOR 1.1 (blobs as byte strings, timestamps as
/// tag 1 with epoch milliseconds). Other replies are written in JSON and transcoded at the edge.
public protocol ResponseWriter {
    mutating func beginObject()
    mutating func endObject()
    mutating func beginArray()
    mutating func endArray()
    /// A member name; the value written next belongs to it.
    mutating func key(_ name: StaticString)
    mutating func string(_ value: String)
    mutating func int(_ value: some BinaryInteger)
    mutating func bool(_ value: Bool)
    mutating func timestamp(millis: Int64)
    /// A blob member's bytes.
    mutating func blob(_ data: [UInt8])
    /// One value already encoded in this writer's encoding, copied as it stands (a record the router passes on).
    mutating func encodedValue(_ encoded: ArraySlice<UInt8>)
    /// The bytes written so far.
    var bytes: [UInt8] { get }
}

extension JSONWriter: ResponseWriter {
    public mutating func blob(_ data: [UInt8]) { base64(data) }
    public mutating func encodedValue(_ encoded: ArraySlice<UInt8>) { raw(encoded) }
}

extension CBORWriter: ResponseWriter {
    public mutating func beginObject() { beginMap() }
    public mutating func endObject() { endMap() }

    public mutating func key(_ name: StaticString) {
        text(utf8: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    public mutating func string(_ value: String) { text(value) }

    public mutating func int(_ value: some BinaryInteger) {
        if let signed = Int64(exactly: value) {
            int(signed)
        } else if let large = UInt64(exactly: value) {
            unsigned(large)
        } else {
            // Wider than 64 bits: no Kinesis integer member is; keep the sign and saturate.
            int(value < 0 ? Int64.min : Int64.max)
        }
    }

    public mutating func blob(_ data: [UInt8]) { bytes(data) }
    public mutating func encodedValue(_ encoded: ArraySlice<UInt8>) { raw(encoded, items: 1) }
}
