import RillKinesis

/// A node's answer to the part of a PutRecords the router sent it, its record results left as byte ranges
/// of the node's body: they go into the client's answer unchanged (the node writes compact JSON).
struct PutRecordsAnswer: Sendable {
    let body: [UInt8]
    /// Each record's result object, in the order the records were sent.
    let results: [Range<Int>]
    /// Which results are errors (they carry an ErrorCode).
    let failed: [Bool]
    let encryptionType: String?

    init?(_ body: [UInt8]) {
        guard let top = JSONSlices.members(body, in: 0..<body.count),
            let records = top.first(where: { $0.key == "Records" }).flatMap({ JSONSlices.elements(body, in: $0.value) })
        else { return nil }
        var failed: [Bool] = []
        failed.reserveCapacity(records.count)
        for record in records {
            var error = false
            let readable = JSONSlices.forEachMember(body, in: record) { key, _ in
                if JSONSlices.key(body, at: key, is: "ErrorCode") { error = true }
                return true
            }
            guard readable else { return nil }
            failed.append(error)
        }
        self.body = body
        self.results = records
        self.failed = failed
        self.encryptionType = top.first(where: { $0.key == "EncryptionType" }).flatMap { JSONSlices.string(body, in: $0.value) }
    }

    /// The client's answer: each record's result where its shard's node answered, in request order, and for
    /// the records of a shard whose call failed, that failure.
    static func merged(
        count: Int, answers: [(slots: [Int], answer: PutRecordsAnswer)], failures: [Int: KinesisError]
    ) -> APIResponse {
        var placed = [(answer: Int, result: Int)?](repeating: nil, count: count)
        for (a, (slots, _)) in answers.enumerated() {
            for (r, slot) in slots.enumerated() { placed[slot] = (a, r) }
        }
        var w = JSONWriter(capacity: 128 * count + 64)
        var failedCount = 0
        w.beginObject()
        w.key("Records")
        w.beginArray()
        for slot in 0..<count {
            if let (a, r) = placed[slot] {
                let answer = answers[a].answer
                if answer.failed[r] { failedCount += 1 }
                w.raw(answer.body[answer.results[r]])
                continue
            }
            failedCount += 1
            let error = failures[slot] ?? .internalFailure()
            w.beginObject()
            w.key("ErrorCode"); w.string(error.code == .provisionedThroughputExceeded ? error.code.rawValue : "InternalFailure")
            w.key("ErrorMessage"); w.string(error.message ?? "Internal Service Failure")
            w.endObject()
        }
        w.endArray()
        w.key("FailedRecordCount"); w.int(failedCount)
        if let encryption = answers.lazy.compactMap(\.answer.encryptionType).first { w.key("EncryptionType"); w.string(encryption) }
        w.endObject()
        return APIResponse(w)
    }
}
