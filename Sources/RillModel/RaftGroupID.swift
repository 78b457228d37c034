/// Which Raft group a message or log belongs to: the metadata group, or one shard of one stream.
public enum RaftGroupID: Hashable, Sendable, Comparable, CustomStringConvertible {
    case meta
    case shard(streamID: String, shard: ShardID)

    public var description: String {
        switch self {
        case .meta: "meta"
        case .shard(let streamID, let shard): "\(streamID)/\(shard.name)"
        }
    }

    /// Parses `description`; nil for anything else.
    public init?(parsing text: String) {
        if text == "meta" {
            self = .meta
            return
        }
        let parts = text.split(separator: "/")
        guard parts.count == 2, !parts[0].isEmpty, let shard = ShardID(parsing: parts[1]) else { return nil }
        self = .shard(streamID: String(parts[0]), shard: shard)
    }

    public static func < (lhs: RaftGroupID, rhs: RaftGroupID) -> Bool { lhs.description < rhs.description }
}
