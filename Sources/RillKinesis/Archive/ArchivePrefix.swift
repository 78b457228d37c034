import Crypto

/// One Firehose prefix (`Prefix` or `ErrorOutputPrefix`) parsed into literal text and `!{namespace:value}`
/// expressions (Firehose developer guide, "Custom Prefixes for Amazon S3 Objects"):
///
/// - `!{timestamp:PATTERN}`: the approximate arrival of the object's oldest record, formatted in UTC by a Java
///   `DateTimeFormatter` pattern (`ArchiveTimestampPattern`); every instance in a prefix is the same instant.
/// - `!{firehose:random-string}`: 11 characters, a new string for each instance. Firehose draws them at random;
///   Rill derives them from the object's identity (its shard and first sequence number, the instance's place), so
///   a replay after a crash names the object the same and replaces it rather than writing it twice.
/// - `!{firehose:error-output-type}`: why the records failed (`processing-failed` for Rill's write failures);
///   error prefix only.
///
/// Pure: parsing and evaluation take their inputs and read no clock.
public struct ArchivePrefix: Sendable, Equatable {
    enum Part: Sendable, Equatable {
        case literal(String)
        case timestamp(ArchiveTimestampPattern)
        case randomString
        case errorOutputType
    }

    /// The prefix as given.
    public let text: String
    let parts: [Part]

    /// Parses `text`; `!{` outside a well-formed expression, an unknown namespace or value, and a timestamp pattern
    /// Java would refuse are errors, never literal text.
    public init(parsing text: String) throws(ArchivePrefixError) {
        self.text = text
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "!{") {
            if open.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<open.lowerBound]))) }
            let body = rest[open.upperBound...]
            guard let close = body.firstIndex(of: "}"), let colon = body[..<close].firstIndex(of: ":") else {
                throw .malformedExpression
            }
            let namespace = body[..<colon]
            let value = String(body[body.index(after: colon)..<close])
            switch namespace {
            case "timestamp": parts.append(.timestamp(try ArchiveTimestampPattern(value)))
            case "firehose":
                switch value {
                case "random-string": parts.append(.randomString)
                case "error-output-type": parts.append(.errorOutputType)
                default: throw .unknownFirehoseValue(value)
                }
            case "partitionKeyFromQuery", "partitionKeyFromLambda": throw .dynamicPartitioning(String(namespace))
            default: throw .malformedExpression
            }
            rest = body[body.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.parts = parts
    }

    init(parts: [Part], text: String) {
        self.parts = parts
        self.text = text
    }

    public var hasExpressions: Bool {
        parts.contains { if case .literal = $0 { false } else { true } }
    }

    public var hasTimestamp: Bool {
        parts.contains { if case .timestamp = $0 { true } else { false } }
    }

    public var hasErrorOutputType: Bool { parts.contains(.errorOutputType) }

    /// The prefix for an object whose oldest record arrived at `arrivalMillis`. `identity` names the object (shard
    /// and first sequence number) and seeds its random strings; `errorOutputType` fills `!{firehose:error-output-type}`.
    public func evaluate(arrivalMillis: Int64, identity: String, errorOutputType: String) -> String {
        var out = ""
        var randomIndex = 0
        for part in parts {
            switch part {
            case .literal(let text): out += text
            case .timestamp(let pattern): out += pattern.format(millis: arrivalMillis)
            case .errorOutputType: out += errorOutputType
            case .randomString:
                out += Self.randomString(identity: identity, index: randomIndex)
                randomIndex += 1
            }
        }
        return out
    }

    /// Firehose's random string is 11 characters; Rill's are 11 lower-case hex digits of SHA-256 over the object's
    /// identity and the instance's place in the prefix, so each instance differs and a replay repeats them.
    static func randomString(identity: String, index: Int) -> String {
        let digest = SHA256.hash(data: Array("random-string/\(index)/\(identity)".utf8))
        return String(SigV4.hex(Array(digest.prefix(6))).prefix(11))
    }
}
