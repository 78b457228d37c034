import RillModel

/// The controller's whole scaling state for every on-demand stream: the traffic window over the nodes'
/// reports and one `OnDemandScaler` per stream, with the decisions it made lately. Pure: the controller
/// feeds it each round's reports, the streams and the time, and executes the decisions it returns.
public struct OnDemandScaling: Sendable {
    /// An open shard of an on-demand stream as the catalog has it.
    public struct OpenShard: Sendable, Equatable {
        public var index: UInt32
        public var name: String
        public var range: HashRange

        public init(index: UInt32, name: String, range: HashRange) {
            self.index = index
            self.name = name
            self.range = range
        }
    }

    /// An on-demand stream as the round sees it: its open shards, and the floor its warm throughput sets.
    public struct Stream: Sendable, Equatable {
        public var shards: [OpenShard]
        /// Shards the stream keeps at least (`OnDemandScaler.decide`'s `floor`).
        public var minimumShards: Int

        public init(shards: [OpenShard], warmThroughputMiBps: Int? = nil) {
            self.shards = shards
            // One shard writes 1 MiB/s.
            self.minimumShards = warmThroughputMiBps ?? 0
        }
    }

    /// A decision, with the figures that made it, for logs, metrics and `rill status`.
    public struct Event: Sendable, Equatable {
        /// The round's time on the controller's monotonic clock, which the windows are measured by.
        public var atMillis: Int64
        /// The round's wall-clock time, for people reading the decision.
        public var wallMillis: Int64
        public var streamID: String
        public var decision: OnDemandScaler.Decision
        /// The traffic the scaler saw for the stream's open shards in that round.
        public var traffic: [OnDemandScaler.ShardTraffic]
    }

    /// Decisions kept for `rill status`.
    public static let recentLimit = 20

    public var policy: OnDemandScaler.Policy
    private var window = TrafficWindow()
    private var scalers: [String: OnDemandScaler] = [:]
    public private(set) var recent: [Event] = []

    public init(policy: OnDemandScaler.Policy = .init(), recent: [Event] = []) {
        self.policy = policy
        self.recent = recent
    }

    /// One round. `reports` are the running totals of the nodes that answered; `complete` says whether every
    /// member did. A round with a missing node updates the window but decides nothing: its writes are missing
    /// from the sums, and a shard would look colder than it is.
    public mutating func round(
        reports: [UInt64: [ShardWriteMeter.Totals]],
        complete: Bool,
        streams: [String: Stream],
        atMillis now: Int64,
        wallMillis: Int64
    ) -> [Event] {
        let rates = window.observe(reports, atMillis: now)
        scalers = scalers.filter { streams[$0.key] != nil }
        guard complete else { return [] }
        var events: [Event] = []
        for (streamID, stream) in streams.sorted(by: { $0.key < $1.key }) {
            let traffic = stream.shards.map { shard in
                let rate = rates[ShardWriteMeter.Key(streamID: streamID, shard: shard.index)]
                return OnDemandScaler.ShardTraffic(
                    shardID: shard.name,
                    range: shard.range,
                    recordsPerSecond: rate?.recordsPerSecond ?? 0,
                    bytesPerSecond: rate?.bytesPerSecond ?? 0,
                    medianHashKey: rate?.medianHashKey
                )
            }
            var scaler = scalers[streamID] ?? OnDemandScaler(policy: policy)
            for decision in scaler.decide(traffic, atMillis: now, floor: stream.minimumShards) {
                events.append(
                    Event(
                        atMillis: now,
                        wallMillis: wallMillis,
                        streamID: streamID,
                        decision: decision,
                        traffic: traffic
                    )
                )
            }
            scalers[streamID] = scaler
        }
        recent = Array((recent + events).suffix(Self.recentLimit))
        return events
    }
}
