import RillModel

/// A shard iterator: where a reader stands in one shard, sealed with an HMAC under the cluster's
/// iterator key. It names a log position, not a node, so it survives leader changes.
///
/// Token: base64 of `version u8, issuedMillis i64, streamCreatedMillis i64, shardIndex u32, index u64,
/// slot u16, idLength u8, stream id, regionLength u8, region, nameLength u8, stream name, mac[16]`.
public struct ShardIterator: Sendable, Equatable {
    public var region: String
    public var streamName: String
    public var streamID: String
    public var streamCreatedMillis: Int64
    public var shardIndex: UInt32
    public var position: LogPosition
    public var issuedMillis: Int64

    /// Iterators live five minutes.
    public static let lifetimeMillis: Int64 = 300_000

    public init(
        region: String,
        streamName: String,
        streamID: String,
        streamCreatedMillis: Int64,
        shardIndex: UInt32,
        position: LogPosition,
        issuedMillis: Int64
    ) {
        self.region = region
        self.streamName = streamName
        self.streamID = streamID
        self.streamCreatedMillis = streamCreatedMillis
        self.shardIndex = shardIndex
        self.position = position
        self.issuedMillis = issuedMillis
    }

    public func token(key: [UInt8]) -> String {
        var body: [UInt8] = [1]
        func put(_ value: UInt64, _ width: Int) {
            for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
                body.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            }
        }
        put(UInt64(bitPattern: issuedMillis), 8)
        put(UInt64(bitPattern: streamCreatedMillis), 8)
        put(UInt64(shardIndex), 4)
        put(position.index.rawValue, 8)
        put(UInt64(position.slot), 2)
        for text in [streamID, region, streamName] {
            let utf8 = Array(text.utf8.prefix(255))
            body.append(UInt8(utf8.count))
            body.append(contentsOf: utf8)
        }
        body.append(contentsOf: SHA256.hmac(key: key, message: body).prefix(16))
        return Base64.encode(body)
    }

    /// Decodes and authenticates a token; nil for anything forged, truncated or garbled.
    public init?(token: String, key: [UInt8]) {
        var text = Substring(token)
        // AWS accepts an iterator wrapped in double quotes.
        if text.count >= 2, text.first == "\"", text.last == "\"" { text = text.dropFirst().dropLast() }
        guard let bytes = try? Base64.decode(String(text)), bytes.count > 16 + 31 else { return nil }
        let body = Array(bytes.dropLast(16))
        let mac = Array(bytes.suffix(16))
        guard Self.constantTimeEqual(Array(SHA256.hmac(key: key, message: body).prefix(16)), mac), body[0] == 1
        else { return nil }
        var offset = 1
        func get(_ width: Int) -> UInt64? {
            guard offset + width <= body.count else { return nil }
            var value: UInt64 = 0
            for i in 0..<width { value = value << 8 | UInt64(body[offset + i]) }
            offset += width
            return value
        }
        func getString() -> String? {
            guard let length = get(1), offset + Int(length) <= body.count else { return nil }
            defer { offset += Int(length) }
            return String(decoding: body[offset..<offset + Int(length)], as: UTF8.self)
        }
        guard let issued = get(8), let created = get(8), let shard = get(4), let index = get(8), let slot = get(2),
            let id = getString(), let region = getString(), let name = getString()
        else { return nil }
        self.issuedMillis = Int64(bitPattern: issued)
        self.streamCreatedMillis = Int64(bitPattern: created)
        self.shardIndex = UInt32(shard)
        self.position = LogPosition(index: LogIndex(index), slot: UInt16(slot))
        self.streamID = id
        self.region = region
        self.streamName = name
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
