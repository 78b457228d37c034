import Crypto

/// Where an object of `rill archive` goes and what it is called, derived from its first record only, so that a
/// replay after a crash names it the same and replaces it (docs/archive.md, "Exactly once").
///
/// Firehose's format (its developer guide, "Configure Amazon S3 object name format"): `<evaluated prefix><suffix>`,
/// the prefix evaluated by `ArchivePrefixes` (by default `yyyy/MM/dd/HH/` in UTC of the oldest record's approximate
/// arrival); the suffix `<stream>-<version>-<YYYY>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid><ext>`.
/// Firehose's uuid is random; ours is a UUIDv8 (RFC 9562) hashed from the shard and the first sequence number, and
/// the time is the first record's arrival rather than the delivery's.
public struct ArchiveObjectName: Sendable, Equatable {
    /// The folder under the destination, ending in `/`: `2026/12/06/17/` or `logs/2026/12/06/17/`.
    public var folder: String
    /// `orders-1-2026-12-06-17-20-01-5f0c…<ext>`.
    public var fileName: String

    public var path: String { folder + fileName }

    /// Firehose's stream version; it grows with each change of configuration there. Rill has one configuration
    /// per run, so it stays 1.
    public static let version = 1

    /// The data object that starts with the record `firstSequenceNumber` of `shardID`.
    public static func data(
        settings: ArchiveSettings,
        shardID: String,
        firstSequenceNumber: String,
        arrivalMillis: Int64
    ) -> ArchiveObjectName {
        ArchiveObjectName(
            folder: settings.prefixes.dataFolder(
                arrivalMillis: arrivalMillis,
                identity: identity(shardID: shardID, firstSequenceNumber: firstSequenceNumber)
            ),
            fileName: fileName(
                stream: settings.streamName,
                shardID: shardID,
                firstSequenceNumber: firstSequenceNumber,
                arrivalMillis: arrivalMillis,
                fileExtension: settings.compression.fileExtension
            )
        )
    }

    /// The error object for the records of the data object that would start with `firstSequenceNumber`: JSON lines,
    /// uncompressed, under the error output prefix.
    public static func errors(
        settings: ArchiveSettings,
        shardID: String,
        firstSequenceNumber: String,
        arrivalMillis: Int64
    ) -> ArchiveObjectName {
        ArchiveObjectName(
            folder: settings.prefixes.errorFolder(
                arrivalMillis: arrivalMillis,
                identity: identity(shardID: shardID, firstSequenceNumber: firstSequenceNumber)
            ),
            fileName: fileName(
                stream: settings.streamName,
                shardID: shardID,
                firstSequenceNumber: firstSequenceNumber,
                arrivalMillis: arrivalMillis,
                fileExtension: ""
            )
        )
    }

    /// What names an object: its shard and first record. It seeds the id and the prefixes' random strings.
    static func identity(shardID: String, firstSequenceNumber: String) -> String { "\(shardID)/\(firstSequenceNumber)" }

    private static func fileName(
        stream: String,
        shardID: String,
        firstSequenceNumber: String,
        arrivalMillis: Int64,
        fileExtension: String
    ) -> String {
        let t = CivilTime.components(arrivalMillis)
        let time =
            "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2))-\(pad(t.hour, 2))-\(pad(t.minute, 2))-\(pad(t.second, 2))"
        let id = derivedID(shardID: shardID, firstSequenceNumber: firstSequenceNumber)
        return "\(stream)-\(version)-\(time)-\(id)\(fileExtension)"
    }

    /// A UUIDv8 (RFC 9562 §5.8): the first 16 bytes of SHA-256("shard/sequence") with the version and variant bits set.
    public static func derivedID(shardID: String, firstSequenceNumber: String) -> String {
        var bytes = Array(SHA256.hash(data: Array("\(shardID)/\(firstSequenceNumber)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(
            separator: "-"
        )
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
