import RillKinesis

/// A node's answer to the part of a PutRecords the router sent it, its record results left as byte ranges
/// of the node's body: they go into the client's answer unchanged (the node writes compact JSON).
public struct PutRecordsAnswer: Sendable {
    public let body: [UInt8]
    /// Each record's result object, in the order the records were sent, and whether it is an error.
    public let results: [(range: Range<Int>, failed: Bool)]
    public let encryptionType: String?

    public init?(_ body: [UInt8]) {
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
        self.body = body
        self.results = results
        self.encryptionType = top.first(where: { $0.key == "EncryptionType" }).flatMap {
            JSONSlices.string(body, in: $0.value)
        }
    }
}
