import RillKinesis
import RillModel

/// A PutRecords body as a router reads it to split it by shard (`PutRecordsSplit`), in JSON or in CBOR.
/// Normally read by byte ranges (`JSONSlices`, or `CBORCursor` in `PutRecordsBody+CBOR`): keys hashed where
/// they stand, record items passed on byte for byte in the client's encoding, since decoding and re-encoding a
/// megabyte of base64 (or transcoding CBOR to JSON) per call is most of what a router would otherwise spend its
/// time on. A JSON body with anything unexpected is read by the full parser instead and its records written
/// anew; a CBOR one is not read here (nil), and the caller reads it as JSON.
public struct PutRecordsBody: Sendable {
    enum Record: Sendable {
        /// The record's object (JSON) or map item (CBOR) in the request body.
        case raw(Range<Int>)
        case decoded(data: String, partitionKey: String, explicitHashKey: String?)
    }

    /// What a node checks of each record before it writes any, as far as the router can tell without
    /// decoding the data.
    struct Sizes: Sendable {
        /// Decoded data bytes; nil when the base64 text's length is not a multiple of four (a node refuses
        /// it). Read from the raw text between the quotes, which holds no escape in any client we know;
        /// an escape would make this an overestimate, so `dataValue` is kept to read the text exactly when
        /// this says too much.
        var dataBytes: Int?
        /// The Data value's range in the body, quotes included; nil when `dataBytes` is exact.
        var dataValue: Range<Int>?
        var keyUTF16: Int
        var keyUTF8: Int
    }

    let body: [UInt8]
    /// The encoding of `body`, and so of every sub-request.
    public let encoding: WireProtocol
    public let selector: StreamSelector
    let records: [Record]
    let sizes: [Sizes]
    /// Each record's hash key; nil for a malformed explicit hash key (a node's answer names the error).
    public let hashKeys: [HashKey?]
    /// The request's members other than its records, the start of every sub-request: in JSON as
    /// `{"StreamName":…,`; in CBOR the encoded keys and values, `prefixMembers` pairs, without the map's head.
    let prefix: [UInt8]
    let prefixMembers: Int

    /// Reads a body in `encoding`; nil when it cannot be split here (the caller sends it whole, or for CBOR
    /// reads it as JSON).
    public init?(_ body: [UInt8], encoding: WireProtocol = .json) {
        switch encoding {
        case .json:
            guard let split = Self.sliced(body) ?? Self.parsed(body) else { return nil }
            self = split
        case .cbor:
            guard let split = Self.cborSliced(body) else { return nil }
            self = split
        }
    }

    init(
        body: [UInt8],
        encoding: WireProtocol = .json,
        selector: StreamSelector,
        records: [Record],
        sizes: [Sizes],
        hashKeys: [HashKey?],
        prefix: [UInt8],
        prefixMembers: Int = 0
    ) {
        self.body = body
        self.encoding = encoding
        self.selector = selector
        self.records = records
        self.sizes = sizes
        self.hashKeys = hashKeys
        self.prefix = prefix
        self.prefixMembers = prefixMembers
    }

    public var count: Int { records.count }

    /// Whether a node would refuse this request as a whole (before writing anything) for a reason the router
    /// can see without decoding the data: too many records, a partition key of the wrong length, a record or
    /// the request over its size limit, a malformed ExplicitHashKey. Such a request is not split: one node's
    /// answer names the error, as it would for the request sent to it straight. Never true for a request a
    /// node would take, or a node would get it back forwarded and unable to serve it.
    public func isSurelyRefused(maxRecordBytes: Int) -> Bool {
        guard records.count <= RecordRouting.maxRecords, !hashKeys.contains(nil) else { return true }
        var total = 0
        var estimated = false
        for size in sizes {
            guard RecordRouting.partitionKeyLengths.contains(size.keyUTF16) else { return true }
            var data = size.dataBytes
            if size.dataValue != nil, data.map({ $0 + size.keyUTF8 > maxRecordBytes }) ?? true {
                data = exactDataBytes(size)
            }
            guard let data, data + size.keyUTF8 <= maxRecordBytes else { return true }
            total += data + size.keyUTF8
            estimated = estimated || size.dataValue != nil
        }
        guard total > RecordRouting.maxRequestBytes else { return false }
        guard estimated else { return true }
        return sizes.reduce(0) { $0 + (exactDataBytes($1) ?? 0) + $1.keyUTF8 } > RecordRouting.maxRequestBytes
    }

    /// The data's decoded length read from its text with escapes resolved.
    private func exactDataBytes(_ size: Sizes) -> Int? {
        guard let value = size.dataValue else { return size.dataBytes }
        guard let text = JSONSlices.string(body, in: value) else { return nil }
        return Self.decodedLength(ArraySlice(text.utf8))
    }

    /// The PutRecords body for the records in `slots`, in that order, in the body's encoding.
    public func subRequest(_ slots: [Int]) -> [UInt8] {
        guard encoding == .json else { return cborSubRequest(slots) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(
            slots.reduce(prefix.count + 16) { total, slot in
                if case .raw(let range) = records[slot] { return total + range.count + 1 }
                return total + 256
            }
        )
        bytes += prefix
        bytes += Array(#""Records":["#.utf8)
        for (offset, slot) in slots.enumerated() {
            if offset > 0 { bytes.append(UInt8(ascii: ",")) }
            switch records[slot] {
            case .raw(let range):
                bytes += body[range]
            case .decoded(let data, let partitionKey, let explicitHashKey):
                var w = JSONWriter(capacity: data.utf8.count + partitionKey.utf8.count + 64)
                w.beginObject()
                w.key("Data")
                w.string(data)
                w.key("PartitionKey")
                w.string(partitionKey)
                if let explicitHashKey {
                    w.key("ExplicitHashKey")
                    w.string(explicitHashKey)
                }
                w.endObject()
                bytes += w.bytes
            }
        }
        bytes += Array("]}".utf8)
        return bytes
    }

    /// The bytes padded base64 text decodes to; nil when its length cannot be base64.
    private static func decodedLength(_ text: ArraySlice<UInt8>) -> Int? {
        decodedLength(length: text.count, padding: text.suffix(2))
    }

    /// The same from the text's length and its last two bytes (fewer for shorter text).
    private static func decodedLength(length: Int, padding tail: ArraySlice<UInt8>) -> Int? {
        guard length % 4 == 0 else { return nil }
        let padding = tail.suffix(min(2, length)).reduce(0) { $0 + ($1 == UInt8(ascii: "=") ? 1 : 0) }
        return length / 4 * 3 - padding
    }

    /// The Java length (UTF-16 code units) of UTF-8 text: one per scalar, two for those beyond the BMP.
    static func utf16Length(_ utf8: ArraySlice<UInt8>) -> Int {
        utf8.reduce(0) { count, byte in
            if byte & 0xC0 == 0x80 { return count }  // a continuation byte
            return count + (byte >= 0xF0 ? 2 : 1)
        }
    }

    private static func sliced(_ body: [UInt8]) -> PutRecordsBody? {
        guard let top = JSONSlices.members(body, in: 0..<body.count) else { return nil }
        var recordsRange: Range<Int>?
        var name: String?
        var arnText: String?
        var prefix: [UInt8] = [UInt8(ascii: "{")]
        for (key, value) in top {
            switch key {
            case "Records": recordsRange = value
            case "StreamName": name = JSONSlices.string(body, in: value)
            case "StreamARN": arnText = JSONSlices.string(body, in: value)
            default: return nil
            }
            if key != "Records" {
                prefix += Array("\"\(key)\":".utf8)
                prefix += body[value]
                prefix.append(UInt8(ascii: ","))
            }
        }
        guard let recordsRange, let ranges = JSONSlices.elements(body, in: recordsRange), !ranges.isEmpty,
            let selector = selector(name: name, arnText: arnText)
        else { return nil }
        var hashKeys: [HashKey?] = []
        var sizes: [Sizes] = []
        hashKeys.reserveCapacity(ranges.count)
        sizes.reserveCapacity(ranges.count)
        for range in ranges {
            var partitionKey: ArraySlice<UInt8>?
            var explicit: String?
            var data: Range<Int>?
            var size = Sizes(dataBytes: nil, dataValue: nil, keyUTF16: 0, keyUTF8: 0)
            let readable = JSONSlices.forEachMember(body, in: range) { key, value in
                if JSONSlices.key(body, at: key, is: "Data") {
                    // Not scanned again here: the walk to this member already went over every byte.
                    guard body[value.lowerBound] == UInt8(ascii: "\""), value.count >= 2 else { return false }
                    data = value
                } else if JSONSlices.key(body, at: key, is: "PartitionKey") {
                    // A key with escapes is hashed and measured as the node will see it: decoded.
                    if let plain = JSONSlices.plainString(body, in: value) {
                        partitionKey = plain
                    } else if let text = JSONSlices.string(body, in: value) {
                        partitionKey = ArraySlice(text.utf8)
                    } else {
                        return false
                    }
                } else if JSONSlices.key(body, at: key, is: "ExplicitHashKey") {
                    guard let text = JSONSlices.string(body, in: value) else { return false }
                    explicit = text
                } else {
                    return false
                }
                return true
            }
            guard readable, let data, let partitionKey else { return nil }
            size.dataBytes = Self.decodedLength(
                length: data.count - 2,
                padding: body[data.upperBound - 3..<data.upperBound - 1]
            )
            size.dataValue = data
            size.keyUTF8 = partitionKey.count
            size.keyUTF16 = Self.utf16Length(partitionKey)
            sizes.append(size)
            hashKeys.append(try? RecordRouting.hashKey(partitionKeyUTF8: partitionKey, explicitHashKey: explicit))
        }
        return PutRecordsBody(
            body: body,
            selector: selector,
            records: ranges.map(Record.raw),
            sizes: sizes,
            hashKeys: hashKeys,
            prefix: prefix
        )
    }

    private static func parsed(_ body: [UInt8]) -> PutRecordsBody? {
        do {
            var r = try RequestReader(bytes: body)
            guard let items = try r.array("Records"), !items.isEmpty, let selector = try r.streamSelector() else {
                return nil
            }
            var records: [Record] = []
            var sizes: [Sizes] = []
            var hashKeys: [HashKey?] = []
            for item in items {
                guard case .object(let object) = item,
                    let data = try r.string("Data", in: object),
                    let partitionKey = try r.string("PartitionKey", in: object)
                else { return nil }
                let explicit = try r.string("ExplicitHashKey", in: object)
                records.append(.decoded(data: data, partitionKey: partitionKey, explicitHashKey: explicit))
                sizes.append(
                    Sizes(
                        dataBytes: decodedLength(ArraySlice(data.utf8)),
                        dataValue: nil,
                        keyUTF16: partitionKey.utf16.count,
                        keyUTF8: partitionKey.utf8.count
                    )
                )
                hashKeys.append(try? RecordRouting.hashKey(partitionKey: partitionKey, explicitHashKey: explicit))
            }
            var w = JSONWriter()
            w.beginObject()
            if let name = try r.string("StreamName") {
                w.key("StreamName")
                w.string(name)
            }
            if let arn = try r.string("StreamARN") {
                w.key("StreamARN")
                w.string(arn)
            }
            var prefix = w.bytes
            if prefix.count > 1 { prefix.append(UInt8(ascii: ",")) }
            return PutRecordsBody(
                body: body,
                selector: selector,
                records: records,
                sizes: sizes,
                hashKeys: hashKeys,
                prefix: prefix
            )
        } catch {
            return nil
        }
    }

    /// The stream a request names, when its name and ARN agree.
    static func selector(name: String?, arnText: String?) -> StreamSelector? {
        let arn = arnText.flatMap(StreamARN.init(parsing:))
        if arnText != nil, arn == nil { return nil }
        switch (name, arn) {
        case (let name?, let arn) where arn == nil || arn?.streamName == name:
            return StreamSelector(name: name, arn: arn)
        case (nil, let arn?): return StreamSelector(name: arn.streamName, arn: arn)
        default: return nil
        }
    }
}
