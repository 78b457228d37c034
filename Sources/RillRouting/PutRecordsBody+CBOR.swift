import RillKinesis
import RillModel

/// A CBOR PutRecords body (what the AWS SDK for Java v2 sends) read as the JSON one is: one walk with
/// `CBORCursor` over the map, each record's PartitionKey and ExplicitHashKey read where they stand, the Data
/// byte string measured but not copied, and each record's map item kept as a byte range to pass on unchanged.
/// Definite and indefinite lengths alike (Jackson writes indefinite maps and arrays).
extension PutRecordsBody {
    /// The member names this reader knows; any other makes the body one for the full reader.
    private enum Member {
        case streamName, streamARN, records, data, partitionKey, explicitHashKey, other

        init(_ name: ArraySlice<UInt8>) {
            self =
                if name.elementsEqual("Data".utf8) {
                    .data
                } else if name.elementsEqual("PartitionKey".utf8) {
                    .partitionKey
                } else if name.elementsEqual("ExplicitHashKey".utf8) {
                    .explicitHashKey
                } else if name.elementsEqual("StreamName".utf8) {
                    .streamName
                } else if name.elementsEqual("StreamARN".utf8) {
                    .streamARN
                } else if name.elementsEqual("Records".utf8) {
                    .records
                } else {
                    .other
                }
        }
    }

    /// What one record tells the router.
    private struct Scanned {
        var size: Sizes
        var hashKey: HashKey?
    }

    /// nil for malformed CBOR and for anything a node must judge from the whole tree (a member other than
    /// StreamName, StreamARN and Records, a record member other than Data, PartitionKey and ExplicitHashKey, a
    /// value of another type than the model's, a repeated member, bytes after the map): the caller then reads
    /// the body as JSON (`APIRequest.inJSON`), which names the error — a SerializationException for malformed
    /// CBOR — or serves what is merely unusual.
    static func cborSliced(_ body: [UInt8]) -> PutRecordsBody? {
        body.withUnsafeBufferPointer { buffer in
            var cursor = CBORCursor(buffer)
            do {
                return try scan(&cursor, body)
            } catch {
                return nil
            }
        }
    }

    private static func scan(_ c: inout CBORCursor, _ body: [UInt8]) throws(CBORFailure) -> PutRecordsBody? {
        let top = try c.readHead()
        guard top.major == 5 else { return nil }
        var name: String?
        var arnText: String?
        var prefix: [UInt8] = []
        var prefixMembers = 0
        var items: [Range<Int>]?
        var sizes: [Sizes] = []
        var hashKeys: [HashKey?] = []
        var left = top.argument
        while try c.hasMore(top, remaining: &left) {
            let memberStart = c.offset
            let member = try key(&c, body)
            switch member {
            case .streamName, .streamARN:
                let head = try c.readHead()
                guard head.major == 3, (member == .streamName ? name : arnText) == nil else { return nil }
                let text = try c.text(head)
                if member == .streamName { name = text } else { arnText = text }
                prefix += body[memberStart..<c.offset]
                prefixMembers += 1
            case .records:
                let head = try c.readHead()
                guard head.major == 4, items == nil else { return nil }
                var ranges: [Range<Int>] = []
                var count = head.argument
                while try c.hasMore(head, remaining: &count) {
                    let start = c.offset
                    guard let scanned = try Self.record(&c, body) else { return nil }
                    ranges.append(start..<c.offset)
                    sizes.append(scanned.size)
                    hashKeys.append(scanned.hashKey)
                }
                items = ranges
            default: return nil
            }
        }
        guard c.isAtEnd, let items, !items.isEmpty, let selector = selector(name: name, arnText: arnText) else {
            return nil
        }
        return PutRecordsBody(
            body: body,
            encoding: .cbor,
            selector: selector,
            records: items.map(Record.raw),
            sizes: sizes,
            hashKeys: hashKeys,
            prefix: prefix,
            prefixMembers: prefixMembers
        )
    }

    /// One record's map: its sizes and hash key, the cursor left after it; nil for anything unexpected.
    private static func record(_ c: inout CBORCursor, _ body: [UInt8]) throws(CBORFailure) -> Scanned? {
        let head = try c.readHead()
        guard head.major == 5 else { return nil }
        var dataBytes: Int?
        var partitionKey: ArraySlice<UInt8>?
        var explicit: String?
        var left = head.argument
        while try c.hasMore(head, remaining: &left) {
            let member = try key(&c, body)
            let value = try c.readHead()
            switch member {
            case .data:
                // A blob is a byte string in CBOR; measured, never copied: it travels inside the record's item.
                guard value.major == 2, dataBytes == nil else { return nil }
                var length = 0
                try c.stringPayload(value) { length += $0.count }
                dataBytes = length
            case .partitionKey:
                guard value.major == 3, partitionKey == nil else { return nil }
                partitionKey = try text(&c, value, body)
            case .explicitHashKey:
                guard value.major == 3, explicit == nil else { return nil }
                explicit = try c.text(value)
            default: return nil
            }
        }
        guard let dataBytes, let partitionKey else { return nil }
        let size = Sizes(
            dataBytes: dataBytes,
            dataValue: nil,
            keyUTF16: utf16Length(partitionKey),
            keyUTF8: partitionKey.count
        )
        // A malformed explicit hash key is nil: the request is then sent whole and a node names the error.
        let hashKey = try? RecordRouting.hashKey(partitionKeyUTF8: partitionKey, explicitHashKey: explicit)
        return Scanned(size: size, hashKey: hashKey)
    }

    /// A map key: which member it names (`.other` for anything, text or not, this reader does not know).
    private static func key(_ c: inout CBORCursor, _ body: [UInt8]) throws(CBORFailure) -> Member {
        let head = try c.readHead()
        guard head.major == 3 else { return .other }
        return Member(try text(&c, head, body))
    }

    /// A text string's UTF-8 (validated): a slice of the body when definite, the chunks joined when not.
    private static func text(
        _ c: inout CBORCursor,
        _ head: CBORCursor.Head,
        _ body: [UInt8]
    ) throws(CBORFailure) -> ArraySlice<UInt8> {
        let start = c.offset
        guard head.isIndefinite else {
            try c.stringPayload(head) { _ in }
            return body[start..<c.offset]
        }
        var joined: [UInt8] = []
        try c.stringPayload(head) { joined += $0 }
        return joined[...]
    }

    /// The sub-request of `slots` in CBOR: a definite map of the prefix's members and the records' items,
    /// each copied as the client wrote it.
    func cborSubRequest(_ slots: [Int]) -> [UInt8] {
        var w = CBORWriter(
            capacity: slots.reduce(prefix.count + 32) { total, slot in
                if case .raw(let range) = records[slot] { return total + range.count }
                return total
            }
        )
        w.beginMap()
        w.raw(prefix, items: UInt64(2 * prefixMembers))
        w.text("Records")
        w.beginArray()
        for slot in slots {
            // A CBOR body holds raw records only (`cborSliced`).
            if case .raw(let range) = records[slot] { w.raw(body[range]) }
        }
        w.endArray()
        w.endMap()
        return w.bytes
    }
}
