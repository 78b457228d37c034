import NIOCore
import RillKinesis

// MARK: - PutRecords for `rill put`

extension KinesisClient {
    /// What one PutRecords call came to: per-record outcomes in request order, or why there were none.
    public enum PutRecordsResult: Sendable {
        case answered([PutBatcher.RecordOutcome])
        case failed(PutBatcher.CallFailure)
    }

    /// Sends `entries` as one PutRecords call, as an idempotent producer when `producer` is given (its id and
    /// one sequence per entry: a retry of a record the stream already holds is not stored again). Never throws:
    /// transport failures come back as `.transport`.
    public func putRecords(
        stream: String,
        entries: [ProducerEntry],
        producer: ProducerStamp? = nil
    ) async -> PutRecordsResult {
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
            var extraHeaders: [(String, String)] = []
            if let producer {
                extraHeaders = [
                    (ProducerStamp.idHeader, producer.producerID),
                    (ProducerStamp.sequenceHeader, ProducerStamp.headerValue(producer.sequences)),
                ]
            }
            reply = try await call(
                .putRecords,
                body: ByteBuffer(bytes: writer.bytes),
                wire: .json,
                headers: extraHeaders
            )
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
