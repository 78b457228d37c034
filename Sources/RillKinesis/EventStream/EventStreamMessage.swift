/// One message of the `application/vnd.amazon.eventstream` framing that SubscribeToShard replies with
/// (KINESIS-SEMANTICS §1.6):
///
///     total length u32 | headers length u32 | prelude CRC u32 | headers | payload | message CRC u32
///
/// Big-endian; CRC-32 (IEEE, zlib's polynomial); the prelude CRC covers the first 8 bytes and the message
/// CRC everything before it. Each header is `name length u8, name, type u8, value`; only strings
/// (type 7: `length u16, UTF-8`) are needed here.
public struct EventStreamMessage: Sendable, Equatable {
    public var headers: [(name: String, value: String)]
    public var payload: [UInt8]

    public init(headers: [(name: String, value: String)], payload: [UInt8]) {
        self.headers = headers
        self.payload = payload
    }

    public static func == (lhs: EventStreamMessage, rhs: EventStreamMessage) -> Bool {
        lhs.payload == rhs.payload && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    /// An `event` message of the given type.
    public static func event(
        _ type: String,
        contentType: String? = "application/json",
        payload: [UInt8]
    ) -> EventStreamMessage {
        var headers = [(":message-type", "event"), (":event-type", type)]
        if let contentType { headers.append((":content-type", contentType)) }
        return EventStreamMessage(headers: headers.map { (name: $0.0, value: $0.1) }, payload: payload)
    }

    /// A modeled exception in the stream (`:message-type=exception`).
    public static func exception(_ code: KinesisErrorCode, message: String) -> EventStreamMessage {
        var w = JSONWriter()
        w.beginObject()
        w.key("message")
        w.string(message)
        w.endObject()
        let type = code.rawValue
        return EventStreamMessage(
            headers: [(":message-type", "exception"), (":exception-type", type), (":content-type", "application/json")]
                .map { (name: $0.0, value: $0.1) },
            payload: w.bytes
        )
    }

    public func encoded() -> [UInt8] {
        var headerBytes: [UInt8] = []
        for header in headers {
            let name = Array(header.name.utf8.prefix(255))
            let value = Array(header.value.utf8.prefix(Int(UInt16.max)))
            headerBytes.append(UInt8(name.count))
            headerBytes += name
            headerBytes.append(7)
            headerBytes.append(UInt8(value.count >> 8))
            headerBytes.append(UInt8(value.count & 0xFF))
            headerBytes += value
        }
        let total = 12 + headerBytes.count + payload.count + 4
        var bytes: [UInt8] = []
        bytes.reserveCapacity(total)
        Self.put(UInt32(total), &bytes)
        Self.put(UInt32(headerBytes.count), &bytes)
        Self.put(CRC32.checksum(bytes), &bytes)
        bytes += headerBytes
        bytes += payload
        Self.put(CRC32.checksum(bytes), &bytes)
        return bytes
    }

    private static func put(_ value: UInt32, _ bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// Decodes one message from the front of `bytes`, checking both CRCs; nil for anything malformed.
    public static func decode(_ bytes: [UInt8]) -> (message: EventStreamMessage, length: Int)? {
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
        }
        guard bytes.count >= 16 else { return nil }
        let total = Int(u32(0))
        let headerLength = Int(u32(4))
        guard total >= 16 + headerLength, total <= bytes.count, CRC32.checksum(Array(bytes[0..<8])) == u32(8),
            CRC32.checksum(Array(bytes[0..<total - 4])) == u32(total - 4)
        else { return nil }
        var headers: [(name: String, value: String)] = []
        var offset = 12
        while offset < 12 + headerLength {
            let nameLength = Int(bytes[offset])
            guard offset + 1 + nameLength + 3 <= 12 + headerLength else { return nil }
            let name = String(decoding: bytes[offset + 1..<offset + 1 + nameLength], as: UTF8.self)
            offset += 1 + nameLength
            guard bytes[offset] == 7 else { return nil }
            let valueLength = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            offset += 3
            guard offset + valueLength <= 12 + headerLength else { return nil }
            headers.append((name, String(decoding: bytes[offset..<offset + valueLength], as: UTF8.self)))
            offset += valueLength
        }
        return (EventStreamMessage(headers: headers, payload: Array(bytes[12 + headerLength..<total - 4])), total)
    }
}

/// CRC-32 with the IEEE polynomial (zlib, PNG), as the event-stream framing requires.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
