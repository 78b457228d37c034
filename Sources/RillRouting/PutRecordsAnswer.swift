import RillKinesis

/// A node's answer to the part of a PutRecords the router sent it, its record results left as byte ranges
/// of the node's body: they go into the client's answer unchanged (the node writes compact JSON, or CBOR for a
/// CBOR client: `PutRecordsMerge` writes both).
public struct PutRecordsAnswer: Sendable {
    public let body: [UInt8]
    public let encoding: WireProtocol
    /// Each record's result object, in the order the records were sent, and whether it is an error.
    public let results: [(range: Range<Int>, failed: Bool)]
    public let encryptionType: String?

    public init?(_ body: [UInt8], encoding: WireProtocol = .json) {
        let read =
            switch encoding {
            case .json: Self.json(body)
            case .cbor: Self.cbor(body)
            }
        guard let read else { return nil }
        self.body = body
        self.encoding = encoding
        self.results = read.results
        self.encryptionType = read.encryptionType
    }

    private typealias Read = (results: [(range: Range<Int>, failed: Bool)], encryptionType: String?)

    private static func json(_ body: [UInt8]) -> Read? {
        guard let top = JSONSlices.members(body, in: 0..<body.count),
            let records = top.first(where: { $0.key == "Records" }).flatMap({ JSONSlices.elements(body, in: $0.value) })
        else { return nil }
        var results: [(range: Range<Int>, failed: Bool)] = []
        results.reserveCapacity(records.count)
        for record in records {
            var error = false
            let readable = JSONSlices.forEachMember(body, in: record) { key, _ in
                if JSONSlices.key(body, at: key, is: "ErrorCode") { error = true }
                return true
            }
            guard readable else { return nil }
            results.append((record, error))
        }
        let encryptionType = top.first(where: { $0.key == "EncryptionType" }).flatMap {
            JSONSlices.string(body, in: $0.value)
        }
        return (results, encryptionType)
    }

    /// The same walk over a CBOR answer (`CBORCursor`), definite or indefinite lengths; nil when malformed.
    private static func cbor(_ body: [UInt8]) -> Read? {
        body.withUnsafeBufferPointer { buffer in
            var c = CBORCursor(buffer)
            do {
                return try cbor(&c)
            } catch {
                return nil
            }
        }
    }

    private static func cbor(_ c: inout CBORCursor) throws(CBORFailure) -> Read? {
        let top = try c.readHead()
        guard top.major == 5 else { return nil }
        var results: [(range: Range<Int>, failed: Bool)]?
        var encryptionType: String?
        var left = top.argument
        while try c.hasMore(top, remaining: &left) {
            let key = try c.readHead()
            guard key.major == 3 else { return nil }
            let name = try c.text(key)
            if name == "Records" {
                let array = try c.readHead()
                guard array.major == 4 else { return nil }
                var read: [(range: Range<Int>, failed: Bool)] = []
                var count = array.argument
                while try c.hasMore(array, remaining: &count) {
                    let start = c.offset
                    let record = try c.readHead()
                    guard record.major == 5 else { return nil }
                    var failed = false
                    var members = record.argument
                    while try c.hasMore(record, remaining: &members) {
                        let member = try c.readHead()
                        guard member.major == 3 else { return nil }
                        if try c.text(member) == "ErrorCode" { failed = true }
                        try c.skipItem(depth: 2)
                    }
                    read.append((start..<c.offset, failed))
                }
                results = read
            } else if name == "EncryptionType" {
                let value = try c.readHead()
                guard value.major == 3 else { return nil }
                encryptionType = try c.text(value)
            } else {
                try c.skipItem(depth: 1)
            }
        }
        guard c.isAtEnd, let results else { return nil }
        return (results, encryptionType)
    }
}
