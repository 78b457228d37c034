/// Why a prefix is refused before anything is archived. The text is Firehose's for its constraints (its
/// `InvalidArgumentException` reads "The supplied prefix(es) do not satisfy the following constraint: …"), Java's
/// for a timestamp pattern, and Rill's own for what Rill does not do.
public enum ArchivePrefixError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `!{` that does not start a `!{namespace:value}` expression with a known namespace.
    case malformedExpression
    case unknownFirehoseValue(String)
    /// `partitionKeyFromQuery` or `partitionKeyFromLambda`: Firehose's dynamic partitioning, which Rill does not do.
    case dynamicPartitioning(String)
    case timestampPattern(String, String)
    case errorOutputTypeInPrefix
    case errorOutputPrefixMissing
    case errorOutputTypeMissing
    case tooLong(field: String)

    public var description: String {
        let constraint = "The supplied prefix(es) do not satisfy the following constraint: "
        switch self {
        case .malformedExpression:
            return constraint + "The sequence !{ can only appear in !{namespace:value} expressions"
        case .unknownFirehoseValue(let value):
            return constraint
                + "!{firehose:\(value)} is not a valid expression; the firehose namespace takes random-string or "
                + "error-output-type"
        case .dynamicPartitioning(let namespace):
            return "!{\(namespace):…} needs Firehose's dynamic partitioning, which rill archive does not do"
        case .timestampPattern(let pattern, let reason):
            return "!{timestamp:\(pattern)} is not a valid DateTimeFormatter pattern: \(reason)"
        case .errorOutputTypeInPrefix:
            return constraint + "Prefix can't contain !{firehose:error-output-type}"
        case .errorOutputPrefixMissing:
            return constraint + "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"
        case .errorOutputTypeMissing:
            return constraint
                + "ErrorOutputPrefix must contain at least one instance of !{firehose:error-output-type} when it "
                + "contains expressions"
        case .tooLong(let field):
            return constraint + "\(field) can't be longer than 512 characters after it is evaluated"
        }
    }
}
