/// Lambda's Kinesis event, field for field, so an existing handler runs unchanged; and the reading of its
/// partial-batch response. Pure.
public enum LambdaEvent {
    /// `{"Records": [{"kinesis": {...}, "eventSource": "aws:kinesis", ...}]}` for one batch of one shard.
    public static func kinesis(
        _ records: [ShardTrigger.Record],
        shardID: String,
        streamARN: String,
        region: String,
        roleARN: String
    ) -> [UInt8] {
        var writer = JSONWriter(capacity: 256 + records.count * 256)
        writer.beginObject()
        writer.key("Records")
        writer.beginArray()
        for record in records {
            writer.beginObject()
            writer.key("kinesis")
            writer.beginObject()
            writer.key("kinesisSchemaVersion")
            writer.string("1.0")
            writer.key("partitionKey")
            writer.string(record.partitionKey)
            writer.key("sequenceNumber")
            writer.string(record.sequenceNumber)
            writer.key("data")
            writer.base64(record.data)
            writer.key("approximateArrivalTimestamp")
            writer.timestamp(millis: record.arrivalMillis)
            writer.endObject()
            writer.key("eventSource")
            writer.string("aws:kinesis")
            writer.key("eventVersion")
            writer.string("1.0")
            writer.key("eventID")
            writer.string("\(shardID):\(record.sequenceNumber)")
            writer.key("eventName")
            writer.string("aws:kinesis:record")
            writer.key("invokeIdentityArn")
            writer.string(roleARN)
            writer.key("awsRegion")
            writer.string(region)
            writer.key("eventSourceARN")
            writer.string(streamARN)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    /// The outcome a handler's response means, as Lambda reads it with ReportBatchItemFailures: nothing, null,
    /// or no/empty `batchItemFailures` is success; identifiers are a partial failure; anything malformed in
    /// `batchItemFailures` fails the whole batch.
    public static func outcome(ofResponse body: [UInt8]) -> ShardTrigger.Outcome {
        guard !body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else { return .success }
        guard let value = try? JSONParser.parse(body) else { return .failure }
        return outcome(ofResult: value)
    }

    /// The same reading of a response already parsed (the Python host hands back the handler's return value).
    public static func outcome(ofResult value: JSONValue) -> ShardTrigger.Outcome {
        guard case .object(let object) = value, let failures = object["batchItemFailures"] else { return .success }
        if case .null = failures { return .success }
        guard case .array(let items) = failures else { return .failure }
        var failed: [String] = []
        for item in items {
            guard case .object(let entry) = item, case .string(let id)? = entry["itemIdentifier"], !id.isEmpty else {
                return .failure
            }
            failed.append(id)
        }
        return failed.isEmpty ? .success : .partial(failed: failed)
    }
}
