/// A ResourceARN of TagResource and the policy operations: a stream ARN, or a consumer ARN
/// (`<stream ARN>/consumer/<name>:<creation epoch seconds>`).
public enum ResourceARN: Sendable, Equatable {
    case stream(StreamARN)
    case consumer(stream: StreamARN, name: String, createdSeconds: Int64)

    public init?(parsing text: String) {
        guard let arn = StreamARN(parsing: text) else { return nil }
        guard let marker = arn.streamName.firstRange(of: "/consumer/") else {
            guard !arn.streamName.contains("/") else { return nil }
            self = .stream(arn)
            return
        }
        let streamName = String(arn.streamName[..<marker.lowerBound])
        let rest = arn.streamName[marker.upperBound...]
        guard let colon = rest.lastIndex(of: ":"), let seconds = Int64(rest[rest.index(after: colon)...]),
            !streamName.isEmpty, streamName.utf8.allSatisfy(FieldPattern.isNameByte)
        else { return nil }
        let name = String(rest[..<colon])
        guard !name.isEmpty, name.utf8.allSatisfy(FieldPattern.isNameByte) else { return nil }
        var streamARN = arn
        streamARN.streamName = streamName
        self = .consumer(stream: streamARN, name: name, createdSeconds: seconds)
    }

    public var streamARN: StreamARN {
        switch self {
        case .stream(let arn), .consumer(let arn, _, _): arn
        }
    }
}
