/// `Prefix` and `ErrorOutputPrefix` together, checked by Firehose's semantic rules (developer guide, "Custom
/// Prefixes for Amazon S3 Objects"), and the folders they give an object:
///
/// - A `Prefix` with no timestamp expression (none given included) is followed by `!{timestamp:yyyy/MM/dd/HH/}`,
///   as Firehose appends it; one with a timestamp expression is used as it evaluates.
/// - `Prefix` can't contain `!{firehose:error-output-type}`.
/// - `ErrorOutputPrefix` can be left out only when `Prefix` has no expressions; Rill then uses
///   `processing-failed/` followed by the time folders. A literal `ErrorOutputPrefix` is followed by the time
///   folders; one with expressions must contain `!{firehose:error-output-type}` and is used as it evaluates.
/// - Neither may be longer than 512 characters once evaluated (checked with the longest month and day names).
public struct ArchivePrefixes: Sendable, Equatable {
    /// `Prefix` as given; nil when left out (or empty, which Firehose treats the same).
    public let prefix: ArchivePrefix?
    /// `ErrorOutputPrefix` as given; nil when left out or empty.
    public let errorOutputPrefix: ArchivePrefix?
    /// What data objects' folders evaluate from: `prefix` with the time folders appended where Firehose does.
    let data: ArchivePrefix
    let errors: ArchivePrefix

    /// What Firehose appends to a prefix without a timestamp expression.
    public static let timeFolders = "yyyy/MM/dd/HH/"
    /// Firehose's default error output prefix.
    public static let defaultErrorOutputPrefix = "processing-failed/"
    /// `!{firehose:error-output-type}` for Rill's one kind of failure: objects that could not be written.
    public static let errorOutputType = "processing-failed"
    public static let maxEvaluatedLength = 512

    /// No custom prefixes: `yyyy/MM/dd/HH/` and `processing-failed/yyyy/MM/dd/HH/`.
    public static let firehoseDefault = ArchivePrefixes(prefix: nil, errorOutputPrefix: nil, checked: ())

    public init(prefix: String? = nil, errorOutputPrefix: String? = nil) throws(ArchivePrefixError) {
        let prefix = try Self.parse(prefix)
        let errorOutputPrefix = try Self.parse(errorOutputPrefix)
        if prefix?.hasErrorOutputType == true { throw .errorOutputTypeInPrefix }
        if prefix?.hasExpressions == true && errorOutputPrefix == nil { throw .errorOutputPrefixMissing }
        if let errorOutputPrefix, errorOutputPrefix.hasExpressions, !errorOutputPrefix.hasErrorOutputType {
            throw .errorOutputTypeMissing
        }
        self.init(prefix: prefix, errorOutputPrefix: errorOutputPrefix, checked: ())
        // The longest month (September) and day (Wednesday) names, a four-digit year.
        let longest: Int64 = 1_790_812_799_999
        if dataFolder(arrivalMillis: longest, identity: "").count > Self.maxEvaluatedLength {
            throw .tooLong(field: "Prefix")
        }
        if errorFolder(arrivalMillis: longest, identity: "").count > Self.maxEvaluatedLength {
            throw .tooLong(field: "ErrorOutputPrefix")
        }
    }

    private static func parse(_ text: String?) throws(ArchivePrefixError) -> ArchivePrefix? {
        guard let text, !text.isEmpty else { return nil }
        return try ArchivePrefix(parsing: text)
    }

    private init(prefix: ArchivePrefix?, errorOutputPrefix: ArchivePrefix?, checked: Void) {
        self.prefix = prefix
        self.errorOutputPrefix = errorOutputPrefix
        self.data = Self.withTimeFolders(prefix, unless: prefix?.hasTimestamp == true)
        self.errors = Self.withTimeFolders(
            errorOutputPrefix ?? ArchivePrefix(parts: [.literal(Self.defaultErrorOutputPrefix)], text: ""),
            unless: errorOutputPrefix?.hasExpressions == true
        )
    }

    private static func withTimeFolders(_ prefix: ArchivePrefix?, unless keep: Bool) -> ArchivePrefix {
        if keep, let prefix { return prefix }
        // The pattern is a constant that parses; a failure here is a bug in Rill, not in the input.
        guard let time = try? ArchiveTimestampPattern(timeFolders) else {
            preconditionFailure("the default time folders pattern \(timeFolders) must parse")
        }
        return ArchivePrefix(parts: (prefix?.parts ?? []) + [.timestamp(time)], text: prefix?.text ?? "")
    }

    /// The folder (the key prefix) of a data object whose oldest record arrived at `arrivalMillis`.
    public func dataFolder(arrivalMillis: Int64, identity: String) -> String {
        data.evaluate(arrivalMillis: arrivalMillis, identity: "data/" + identity, errorOutputType: Self.errorOutputType)
    }

    /// The folder of the error object for the records of that data object.
    public func errorFolder(arrivalMillis: Int64, identity: String) -> String {
        errors.evaluate(
            arrivalMillis: arrivalMillis,
            identity: "errors/" + identity,
            errorOutputType: Self.errorOutputType
        )
    }
}
