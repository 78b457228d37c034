/// A shard's index within its stream and its Kinesis name, `shardId-` plus 12 zero-padded digits.
public struct ShardID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var index: UInt32
    public init(index: UInt32) { self.index = index }

    /// Parses `shardId-000000000001`; like kinesalite, also `shardId-1` and a bare `1`.
    public init?(parsing text: some StringProtocol) {
        var digits = Substring(text)
        if digits.hasPrefix("shardId-") { digits = digits.dropFirst("shardId-".count) }
        guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = UInt32(digits)
        else { return nil }
        self.index = value
    }

    public var name: String {
        let digits = String(index)
        return "shardId-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }
    public var description: String { name }
    public static func < (lhs: ShardID, rhs: ShardID) -> Bool { lhs.index < rhs.index }
}
