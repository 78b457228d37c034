/// What `rill archive` does to a stream's records, in Firehose's terms: the buffering hints, the compression, the
/// record delimiter and the prefixes of the objects it writes to a folder (Firehose's S3 destination).
public struct ArchiveSettings: Sendable, Equatable {
    /// Firehose's `CompressionFormat` for a folder: the two a reader needs no Hadoop codec for.
    public enum Compression: String, Sendable, Equatable, CaseIterable {
        case uncompressed = "UNCOMPRESSED"
        case gzip = "GZIP"

        /// The object name's extension (Firehose adds `.gz` to GZIP objects).
        public var fileExtension: String {
            switch self {
            case .uncompressed: ""
            case .gzip: ".gz"
            }
        }
    }

    /// The Firehose stream's name in object names: the Kinesis stream's.
    public var streamName: String
    /// `BufferingHints.SizeInMBs`, in bytes of record data (before compression, as Firehose counts it).
    public var bufferBytes: Int
    /// `BufferingHints.IntervalInSeconds`, in milliseconds since the oldest buffered record was read.
    public var bufferIntervalMillis: Int64
    public var compression: Compression
    /// Firehose's "add a new line delimiter" processor: `\n` after each record.
    public var newlineDelimiter: Bool
    /// `Prefix` and `ErrorOutputPrefix`, checked; by default the bare `yyyy/MM/dd/HH/` time folders, and
    /// `processing-failed/` before them for records that cannot be written.
    public var prefixes: ArchivePrefixes
    /// Writes of one object tried before its records go to the error output (the error record's `attemptsMade`).
    public var writeAttempts: Int

    public init(
        streamName: String,
        bufferBytes: Int = 5 * 1024 * 1024,
        bufferIntervalMillis: Int64 = 300_000,
        compression: Compression = .uncompressed,
        newlineDelimiter: Bool = false,
        prefixes: ArchivePrefixes = .firehoseDefault,
        writeAttempts: Int = 4
    ) {
        self.streamName = streamName
        self.bufferBytes = bufferBytes
        self.bufferIntervalMillis = bufferIntervalMillis
        self.compression = compression
        self.newlineDelimiter = newlineDelimiter
        self.prefixes = prefixes
        self.writeAttempts = writeAttempts
    }

    /// Firehose's limits: `SizeInMBs` 1–128, `IntervalInSeconds` 0–900.
    public static let bufferMegabytes = 1...128
    public static let bufferSeconds = 0...900

    /// What to do after `attempts` failed writes of one object: try again, or give its records to the error
    /// output (Firehose retries S3 itself; a folder's persistent failures are a full disk or a lost permission).
    public func afterFailedWrite(attempts: Int) -> WriteDecision {
        attempts < writeAttempts ? .retry : .errorOutput
    }

    public enum WriteDecision: Sendable, Equatable {
        case retry
        case errorOutput
    }
}
