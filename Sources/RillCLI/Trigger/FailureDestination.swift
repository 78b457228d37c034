import Foundation
import RillClient
import RillKinesis

/// `--on-failure`: where a batch given up on goes, as Lambda's on-failure destination. Each discarded batch is one
/// JSON object: Lambda's invocation record (`requestContext`, `responseContext`, `version`, `timestamp`,
/// `KinesisBatchInfo`) plus `payload`, the event the records were (or would have been) invoked with, so the
/// records themselves are kept, not only their sequence numbers.
enum FailureDestination: Sendable {
    /// `file:PATH`: appended as one line per batch.
    case file(String)
    /// A stream name: put as one record per batch, partition key the source shard.
    case stream(String)

    init?(_ text: String) {
        if text.hasPrefix("file:") {
            let path = String(text.dropFirst("file:".count))
            guard !path.isEmpty else { return nil }
            self = .file(path)
        } else {
            guard !text.isEmpty, !text.contains(":") || text.hasPrefix("arn:") else { return nil }
            // A stream ARN names the stream after its last slash.
            self = .stream(text.split(separator: "/").last.map(String.init) ?? text)
        }
    }

    /// The invocation record for one discarded batch.
    static func record(
        _ discard: ShardTrigger.Discard,
        shardID: String,
        streamARN: String,
        region: String,
        functionName: String,
        nowMillis: Int64
    ) -> [UInt8] {
        let account = streamARN.split(separator: ":").dropFirst(4).first.map(String.init) ?? "000000000000"
        var writer = JSONWriter(capacity: 1024 + discard.records.count * 300)
        writer.beginObject()
        writer.key("requestContext")
        writer.beginObject()
        writer.key("requestId")
        writer.string(UUID().uuidString.lowercased())
        writer.key("functionArn")
        writer.string("arn:aws:lambda:\(region):\(account):function:\(functionName)")
        writer.key("condition")
        writer.string(discard.condition.rawValue)
        writer.key("approximateInvokeCount")
        writer.int(discard.invocations)
        writer.endObject()
        writer.key("responseContext")
        writer.beginObject()
        writer.key("statusCode")
        writer.int(200)
        writer.key("executedVersion")
        writer.string("$LATEST")
        writer.key("functionError")
        writer.string(discard.condition == .retryAttemptsExhausted ? "Unhandled" : "")
        writer.endObject()
        writer.key("version")
        writer.string("1.0")
        writer.key("timestamp")
        writer.string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(nowMillis) / 1000)))
        writer.key("KinesisBatchInfo")
        writer.beginObject()
        writer.key("shardId")
        writer.string(shardID)
        writer.key("startSequenceNumber")
        writer.string(discard.records.first?.sequenceNumber ?? "")
        writer.key("endSequenceNumber")
        writer.string(discard.records.last?.sequenceNumber ?? "")
        writer.key("approximateArrivalOfFirstRecord")
        writer.string(iso(discard.records.first?.arrivalMillis ?? 0))
        writer.key("approximateArrivalOfLastRecord")
        writer.string(iso(discard.records.last?.arrivalMillis ?? 0))
        writer.key("batchSize")
        writer.int(discard.records.count)
        writer.key("streamArn")
        writer.string(streamARN)
        writer.endObject()
        writer.key("payload")
        writer.raw(
            LambdaEvent.kinesis(
                discard.records,
                shardID: shardID,
                streamARN: streamARN,
                region: region,
                roleARN: "arn:aws:iam::\(account):role/rill-trigger"
            )
        )
        writer.endObject()
        return writer.bytes
    }

    private static func iso(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    /// Delivers one record; throws when it could not (the caller retries: a discarded batch is not checkpointed
    /// past until it is delivered).
    func deliver(_ line: [UInt8], shardID: String, using client: KinesisClient) async throws {
        switch self {
        case .file(let path):
            let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw ToolFailure("cannot open \(path): errno \(errno)") }
            defer { close(descriptor) }
            // One write per line: O_APPEND keeps lines from several triggers whole.
            guard StandardStream.write(line + [0x0A], to: descriptor) else {
                throw ToolFailure("cannot write \(path): errno \(errno)")
            }
            guard fsync(descriptor) == 0 else { throw ToolFailure("cannot sync \(path): errno \(errno)") }
        case .stream(let name):
            _ = try await client.consumerPutRecord(stream: name, partitionKey: shardID, data: line)
        }
    }
}
