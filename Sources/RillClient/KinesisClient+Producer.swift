import NIOCore
import RillKinesis

// MARK: - PutRecords for `rill put`

extension KinesisClient {
    /// What one PutRecords call came to: per-record outcomes in request order, or why there were none.
    public enum PutRecordsResult: Sendable {
        case answered([PutBatcher.RecordOutcome])
        case failed(PutBatcher.CallFailure)
    }

    /// Sends `entries` as one PutRecords call. Never throws: transport failures come back as `.transport`.
    public func putRecords(stream: String, entries: [ProducerEntry]) async -> PutRecordsResult {
        var writer = JSONWriter(
            capacity: entries.reduce(64) { $0 + $1.data.count * 4 / 3 + $1.partitionKey.utf8.count + 64 }
        )
        writer.beginObject()
        writer.key("StreamName")
        writer.string(stream)
        writer.key("Records")
        writer.beginArray()
        for entry in entries {
            writer.beginObject()
            writer.key("Data")
            writer.base64(entry.data)
            writer.key("PartitionKey")
            writer.string(entry.partitionKey)
            if let explicitHashKey = entry.explicitHashKey {
                writer.key("ExplicitHashKey")
                writer.string(explicitHashKey)
            }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        let reply: HTTPReply
        do {
            reply = try await call(.putRecords, body: ByteBuffer(bytes: writer.bytes), wire: .json)
        } catch {
            return .failed(.transport(HTTPClientError.code(of: error)))
        }
        guard reply.status == .ok else {
            let (code, message) = KinesisReply.error(in: reply)
            // A 5xx without a Kinesis error body (a proxy, a restarting node) is as retryable as InternalFailure.
            if code.hasPrefix("HTTP 5") { return .failed(.error(code: "InternalFailure", message: code)) }
            return .failed(.error(code: code, message: message))
        }
        let object: JSONObject
        do {
            object = try KinesisReply.object(reply.body, operation: .putRecords)
        } catch {
            return .failed(.transport("PutRecords reply unreadable: \(error)"))
        }
        var outcomes: [PutBatcher.RecordOutcome] = []
        outcomes.reserveCapacity(entries.count)
        for case .object(let record) in KinesisReply.array(object, "Records") ?? [] {
            if let code = KinesisReply.string(record, "ErrorCode") {
                outcomes.append(.failed(code: code, message: KinesisReply.string(record, "ErrorMessage") ?? ""))
            } else {
                outcomes.append(.written)
            }
        }
        return .answered(outcomes)
    }
}
