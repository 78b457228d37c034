import RillKinesis
import RillModel

/// A PutRecords body as the router splits it by shard. Normally read by byte ranges (`JSONSlices`): keys
/// hashed where they stand, record objects passed on byte for byte, since decoding and re-encoding a
/// megabyte of base64 per call is most of what a router would otherwise spend its time on. A body with
/// anything unexpected is read by the full parser instead and its records written anew.
struct PutRecordsSplit: Sendable {
    enum Record: Sendable {
        /// The record's object in the request body.
        case raw(Range<Int>)
        case decoded(data: String, partitionKey: String, explicitHashKey: String?)
    }

    let body: [UInt8]
    let selector: StreamSelector
    let records: [Record]
    /// Each record's hash key; nil for a malformed explicit hash key (the node's answer names the error).
    let hashKeys: [HashKey?]
    /// The request's top-level members before its records, as `{"StreamName":…,`: the start of every
    /// sub-request.
    private let prefix: [UInt8]

    init?(_ body: [UInt8]) {
        guard let split = Self.sliced(body) ?? Self.parsed(body) else { return nil }
        self = split
    }

    private init(body: [UInt8], selector: StreamSelector, records: [Record], hashKeys: [HashKey?], prefix: [UInt8]) {
        self.body = body
        self.selector = selector
        self.records = records
        self.hashKeys = hashKeys
        self.prefix = prefix
    }

    /// The PutRecords body for the records in `slots`, in that order.
    func subRequest(_ slots: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(
            slots.reduce(prefix.count + 16) { total, slot in
                if case .raw(let range) = records[slot] { return total + range.count + 1 }
                return total + 256
            })
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
                w.key("Data"); w.string(data)
                w.key("PartitionKey"); w.string(partitionKey)
                if let explicitHashKey { w.key("ExplicitHashKey"); w.string(explicitHashKey) }
                w.endObject()
                bytes += w.bytes
            }
        }
        bytes += Array("]}".utf8)
        return bytes
    }

    private static func sliced(_ body: [UInt8]) -> PutRecordsSplit? {
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
        hashKeys.reserveCapacity(ranges.count)
        for range in ranges {
            var partitionKey: HashKey?
            var explicit: HashKey??
            var hasData = false
            let readable = JSONSlices.forEachMember(body, in: range) { key, value in
                if JSONSlices.key(body, at: key, is: "Data") {
                    hasData = body[value.lowerBound] == UInt8(ascii: "\"")
                } else if JSONSlices.key(body, at: key, is: "PartitionKey") {
                    // A key with escapes is hashed as the node will see it: decoded.
                    if let plain = JSONSlices.plainString(body, in: value) {
                        partitionKey = HashKey(partitionKeyUTF8: plain)
                    } else if let text = JSONSlices.string(body, in: value) {
                        partitionKey = HashKey(partitionKey: text)
                    } else {
                        return false
                    }
                } else if JSONSlices.key(body, at: key, is: "ExplicitHashKey") {
                    guard let text = JSONSlices.string(body, in: value) else { return false }
                    if case .valid(let parsed) = HashKey.parse(text) { explicit = .some(parsed) } else { explicit = .some(nil) }
                } else {
                    return false
                }
                return true
            }
            guard readable, hasData, let partitionKey else { return nil }
            hashKeys.append(explicit ?? partitionKey)
        }
        return PutRecordsSplit(
            body: body, selector: selector, records: ranges.map(Record.raw), hashKeys: hashKeys, prefix: prefix)
    }

    private static func parsed(_ body: [UInt8]) -> PutRecordsSplit? {
        do {
            var r = try RequestReader(bytes: body)
            guard let items = try r.array("Records"), !items.isEmpty, let selector = try r.streamSelector() else { return nil }
            var records: [Record] = []
            var hashKeys: [HashKey?] = []
            for item in items {
                guard case .object(let object) = item,
                    let data = try r.string("Data", in: object), let partitionKey = try r.string("PartitionKey", in: object)
                else { return nil }
                let explicit = try r.string("ExplicitHashKey", in: object)
                records.append(.decoded(data: data, partitionKey: partitionKey, explicitHashKey: explicit))
                hashKeys.append(Router.hashKey(partitionKey, explicit))
            }
            var w = JSONWriter()
            w.beginObject()
            if let name = try r.string("StreamName") { w.key("StreamName"); w.string(name) }
            if let arn = try r.string("StreamARN") { w.key("StreamARN"); w.string(arn) }
            var prefix = w.bytes
            if prefix.count > 1 { prefix.append(UInt8(ascii: ",")) }
            return PutRecordsSplit(body: body, selector: selector, records: records, hashKeys: hashKeys, prefix: prefix)
        } catch {
            return nil
        }
    }

    /// The stream a request names, when its name and ARN agree.
    private static func selector(name: String?, arnText: String?) -> StreamSelector? {
        let arn = arnText.flatMap(StreamARN.init(parsing:))
        if arnText != nil, arn == nil { return nil }
        switch (name, arn) {
        case (let name?, let arn) where arn == nil || arn?.streamName == name: return StreamSelector(name: name, arn: arn)
        case (nil, let arn?): return StreamSelector(name: arn.streamName, arn: arn)
        default: return nil
        }
    }
}
