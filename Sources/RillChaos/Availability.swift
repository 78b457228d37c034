/// How long writes went unacknowledged: the longest silences overall, per shard and around each fault.
public struct Availability: Sendable, Equatable, Codable {
    /// The longest time between two consecutive acknowledged writes to any shard.
    public var longestGap: Gap?
    public var shards: [ShardAvailability]
    public var faults: [FaultWindowAvailability]

    public init(longestGap: Gap? = nil, shards: [ShardAvailability] = [], faults: [FaultWindowAvailability] = []) {
        self.longestGap = longestGap
        self.shards = shards
        self.faults = faults
    }

    /// A stretch of time without an acknowledged write.
    public struct Gap: Sendable, Equatable, Codable {
        /// The acknowledgement before the gap, in ms since the run started.
        public var start: Double
        /// The acknowledgement after it, or the end of the history if none came (`recovered` false).
        public var end: Double
        /// The shard, for a gap between writes to one shard; nil for a gap across all shards.
        public var shard: String?
        /// False when no acknowledged write followed before the history ended.
        public var recovered: Bool
        public var milliseconds: Double

        public init(start: Double, end: Double, shard: String? = nil, recovered: Bool = true) {
            self.start = start
            self.end = end
            self.shard = shard
            self.recovered = recovered
            self.milliseconds = end - start
        }
    }

    /// One shard's acknowledged writes and its longest gap between two of them.
    public struct ShardAvailability: Sendable, Equatable, Codable {
        public var shard: String
        public var acknowledged: Int
        public var longestGap: Gap?
    }

    /// The longest gaps that overlap one fault's window.
    public struct FaultWindowAvailability: Sendable, Equatable, Codable {
        public var kind: FaultKind
        public var target: String
        public var start: Double
        /// The fault's end, or nil if the history never recorded one.
        public var end: Double?
        /// The longest overlapping gap across all shards: the whole stream was unwritable that long.
        public var longestGap: Gap?
        /// The longest overlapping gap of any single shard.
        public var longestShardGap: Gap?
    }
}
