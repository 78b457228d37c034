/// One replica's summary of its shard logs, taken after healing, to compare replicas byte for byte.
public struct ChecksumsEvent: Sendable, Equatable, Codable {
    /// Milliseconds since the run started.
    public var time: Double
    public var node: String
    public var shards: [ShardChecksum]

    public init(time: Double, node: String, shards: [ShardChecksum]) {
        self.time = time
        self.node = node
        self.shards = shards
    }
}

/// A digest of one replica's log of one shard up to its applied index.
public struct ShardChecksum: Sendable, Equatable, Codable {
    public var shard: String
    /// The last log index the replica applied; replicas that applied as much must hold the same log.
    public var applied: UInt64
    /// SHA-256 of the applied log, hex.
    public var sha256: String
    /// How many records that log holds.
    public var records: Int
    /// The group's voters in this replica's configuration, from `/admin/status` polled with the checksums, so
    /// a divergence shows which configuration each side was in; nil if the node did not say.
    public var voters: [Int]?

    public init(shard: String, applied: UInt64, sha256: String, records: Int, voters: [Int]? = nil) {
        self.shard = shard
        self.applied = applied
        self.sha256 = sha256
        self.records = records
        self.voters = voters
    }

    enum CodingKeys: String, CodingKey {
        case shard = "shardId"
        case applied, sha256, records, voters
    }
}
