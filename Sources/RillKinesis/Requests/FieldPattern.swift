/// The regular expressions of the model, matched by hand (whole string) and quoted in ValidationExceptions.
public enum FieldPattern: Sendable {
    case streamName
    case streamARN
    case hashKey
    case sequenceNumber
    case shardId
    case consumerARN
    case resourceARN

    public var regex: String {
        switch self {
        case .streamName, .shardId: "[a-zA-Z0-9_.-]+"
        case .streamARN: "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+"
        case .hashKey: "0|([1-9]\\d{0,38})"
        case .sequenceNumber: "0|([1-9]\\d{0,128})"
        case .consumerARN:
            "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+"
        case .resourceARN: "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+"
        }
    }

    public func matches(_ text: String) -> Bool {
        switch self {
        case .streamName, .shardId:
            return !text.isEmpty && text.utf8.allSatisfy(Self.isNameByte)
        case .hashKey: return Self.isDecimal(text, maxDigits: 39)
        case .sequenceNumber: return Self.isDecimal(text, maxDigits: 129)
        case .streamARN: return StreamARN(parsing: text) != nil
        // The ARN patterns backtrack over `.*`; only control-plane calls use them, so the regex engine's
        // cost does not matter and matching the model's text exactly does.
        case .consumerARN, .resourceARN:
            guard let regex = try? Regex(regex) else { return false }
            return (try? regex.wholeMatch(in: text)) != nil
        }
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    static func isDecimal(_ text: String, maxDigits: Int) -> Bool {
        let utf8 = text.utf8
        guard let first = utf8.first, utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        if first == 0x30 { return utf8.count == 1 }
        return utf8.count <= maxDigits
    }
}

/// `arn:<partition>:kinesis:<region>:<12-digit account>:stream/<name>`.
public struct StreamARN: Sendable, Equatable {
    public var partition: String
    public var region: String
    public var account: String
    public var streamName: String

    public init(partition: String = "aws", region: String, account: String, streamName: String) {
        self.partition = partition
        self.region = region
        self.account = account
        self.streamName = streamName
    }

    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "kinesis",
            parts[4].utf8.count == 12, parts[4].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            parts[5].hasPrefix("stream/")
        else { return nil }
        let name = parts[5].dropFirst("stream/".count)
        guard !name.isEmpty, !name.contains(where: \.isWhitespace) else { return nil }
        self.partition = String(parts[1])
        self.region = String(parts[3])
        self.account = String(parts[4])
        self.streamName = String(name)
    }

    public var description: String { "arn:\(partition):kinesis:\(region):\(account):stream/\(streamName)" }
}
