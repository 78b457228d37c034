/// Firehose's error record, one JSON line per user record that `rill archive` could not write, in the shape its
/// developer guide gives for records it fails to deliver ("Handling errors for data format conversion"):
///
///     {"attemptsMade":4,"arrivalTimestamp":1765040400000,"errorCode":"Archive.WriteFailed",
///      "errorMessage":"…","attemptEndingTimestamp":1765040401234,"rawData":"aGVsbG8=",
///      "sequenceNumber":"4965…","subSequenceNumber":0}
///
/// `subSequenceNumber` is the user record's index in a KPL aggregate (0 for a plain record).
public enum ArchiveErrorRecord {
    /// Rill's code for an object the folder refused (Firehose's own codes name S3's refusals, `S3.AccessDenied`
    /// and the like; a folder's are errno texts, carried in `errorMessage`).
    public static let writeFailed = "Archive.WriteFailed"

    /// The error object's lines for every user record of `flush`.
    public static func lines(
        _ flush: ArchiveBuffer.Flush,
        attemptsMade: Int,
        errorCode: String,
        errorMessage: String,
        attemptEndingMillis: Int64
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        for record in flush.records {
            for (index, payload) in record.payloads.enumerated() {
                var writer = JSONWriter(capacity: 256 + payload.count * 4 / 3)
                writer.beginObject()
                writer.key("attemptsMade")
                writer.int(attemptsMade)
                writer.key("arrivalTimestamp")
                writer.int(record.arrivalMillis)
                writer.key("errorCode")
                writer.string(errorCode)
                writer.key("errorMessage")
                writer.string(errorMessage)
                writer.key("attemptEndingTimestamp")
                writer.int(attemptEndingMillis)
                writer.key("rawData")
                writer.base64(payload)
                writer.key("sequenceNumber")
                writer.string(record.sequenceNumber)
                writer.key("subSequenceNumber")
                writer.int(index)
                writer.endObject()
                bytes += writer.bytes
                bytes.append(0x0A)
            }
        }
        return bytes
    }
}
