/// The `AWS/Kinesis` metrics a data-path event adds to, with AWS's names, units and dimensions. Pure: the
/// shell says what happened and when; `MetricStore` keeps the minute buckets.
///
/// Stream-level metrics carry `StreamName`; shard-level ones `StreamName` and `ShardId` and, as on AWS, are
/// kept only for the names EnableEnhancedMonitoring turned on (`ShardLevelMetrics`, or `ALL`); enhanced
/// fan-out ones `StreamName` and `ConsumerName`. A count is one sample per call with the call's value, so
/// Sum is the total and SampleCount the calls, as CloudWatch reports them.
public enum KinesisMetrics {
    /// Where an event happened: the stream's region (CloudWatch is regional, as stream names are), its name,
    /// and its enhanced (shard-level) metrics.
    public struct Scope: Sendable, Equatable {
        public var region: String
        public var stream: String
        public var shardLevel: Set<String>

        public init(region: String, stream: String, enhancedMetrics: [String]?) {
            self.region = region
            self.stream = stream
            self.shardLevel = Set(enhancedMetrics ?? [])
        }

        func wantsShard(_ name: String) -> Bool { shardLevel.contains(name) || shardLevel.contains("ALL") }
    }

    /// What happened on the data path.
    public enum Event: Sendable, Equatable {
        /// A PutRecord succeeded: its record's bytes (data plus partition key), the call's latency.
        case putRecord(bytes: Int, latencyMillis: Double)
        /// A PutRecords call answered: records sent, written, refused for throughput, their written bytes.
        case putRecords(total: Int, successful: Int, throttled: Int, bytes: Int, latencyMillis: Double)
        /// Records became durable on one shard (one entry of a PutRecord or PutRecords).
        case incoming(shard: String, records: Int, bytes: Int)
        /// Writes to a provisioned shard refused for its limit (records).
        case writeThrottled(shard: String, records: Int)
        /// A GetRecords call answered: records and bytes returned, the age of the last one, the latency.
        case getRecords(shard: String, records: Int, bytes: Int, iteratorAgeMillis: Int64, latencyMillis: Double)
        /// A GetRecords call refused for its shard's read limit.
        case readThrottled(shard: String)
        /// A SubscribeToShard call started (or was refused because the consumer already reads the shard).
        case subscribe(consumer: String, admitted: Bool)
        /// A SubscribeToShard event went out.
        case subscribeEvent(consumer: String, records: Int, bytes: Int, millisBehindLatest: Int64)
    }

    public static let namespace = "AWS/Kinesis"

    /// The samples `event` adds: metric, value and unit.
    public static func samples(_ event: Event, in scope: Scope) -> [(MetricID, Double, String)] {
        let stream = [MetricID.Dimension("StreamName", scope.stream)]
        var out: [(MetricID, Double, String)] = []
        func add(_ name: String, _ value: Double, _ unit: String, _ dimensions: [MetricID.Dimension]? = nil) {
            out.append((MetricID(namespace: namespace, name: name, dimensions: dimensions ?? stream), value, unit))
        }
        func addShard(_ shard: String, _ name: String, _ value: Double, _ unit: String) {
            guard scope.wantsShard(name) else { return }
            add(name, value, unit, stream + [MetricID.Dimension("ShardId", shard)])
        }
        switch event {
        case .putRecord(let bytes, let latency):
            add("PutRecord.Bytes", Double(bytes), "Bytes")
            add("PutRecord.Latency", latency, "Milliseconds")
            add("PutRecord.Success", 1, "Count")
            add("IncomingRecords", 1, "Count")
            add("IncomingBytes", Double(bytes), "Bytes")
        case .putRecords(let total, let successful, let throttled, let bytes, let latency):
            add("PutRecords.Bytes", Double(bytes), "Bytes")
            add("PutRecords.Latency", latency, "Milliseconds")
            add("PutRecords.Success", 1, "Count")
            add("PutRecords.TotalRecords", Double(total), "Count")
            add("PutRecords.SuccessfulRecords", Double(successful), "Count")
            add("PutRecords.FailedRecords", Double(total - successful - throttled), "Count")
            add("PutRecords.ThrottledRecords", Double(throttled), "Count")
            if successful > 0 {
                add("IncomingRecords", Double(successful), "Count")
                add("IncomingBytes", Double(bytes), "Bytes")
            }
        case .incoming(let shard, let records, let bytes):
            addShard(shard, "IncomingRecords", Double(records), "Count")
            addShard(shard, "IncomingBytes", Double(bytes), "Bytes")
        case .writeThrottled(let shard, let records):
            add("WriteProvisionedThroughputExceeded", Double(records), "Count")
            addShard(shard, "WriteProvisionedThroughputExceeded", Double(records), "Count")
        case .getRecords(let shard, let records, let bytes, let age, let latency):
            add("GetRecords.Records", Double(records), "Count")
            add("GetRecords.Bytes", Double(bytes), "Bytes")
            add("GetRecords.IteratorAgeMilliseconds", Double(age), "Milliseconds")
            add("GetRecords.Latency", latency, "Milliseconds")
            add("GetRecords.Success", 1, "Count")
            addShard(shard, "OutgoingRecords", Double(records), "Count")
            addShard(shard, "OutgoingBytes", Double(bytes), "Bytes")
            addShard(shard, "IteratorAgeMilliseconds", Double(age), "Milliseconds")
        case .readThrottled(let shard):
            add("ReadProvisionedThroughputExceeded", 1, "Count")
            add("GetRecords.Success", 0, "Count")
            addShard(shard, "ReadProvisionedThroughputExceeded", 1, "Count")
        case .subscribe(let consumer, let admitted):
            let dimensions = stream + [MetricID.Dimension("ConsumerName", consumer)]
            if admitted {
                add("SubscribeToShard.Success", 1, "Count", dimensions)
            } else {
                add("SubscribeToShard.RateExceeded", 1, "Count", dimensions)
            }
        case .subscribeEvent(let consumer, let records, let bytes, let behind):
            let dimensions = stream + [MetricID.Dimension("ConsumerName", consumer)]
            add("SubscribeToShardEvent.Records", Double(records), "Count", dimensions)
            add("SubscribeToShardEvent.Bytes", Double(bytes), "Bytes", dimensions)
            add("SubscribeToShardEvent.MillisBehindLatest", Double(behind), "Milliseconds", dimensions)
            add("SubscribeToShardEvent.Success", 1, "Count", dimensions)
        }
        return out
    }
}

extension MetricStore {
    /// Adds the samples of one data-path event at `now`, trimming past the retention once a minute.
    public mutating func record(_ event: KinesisMetrics.Event, in scope: KinesisMetrics.Scope, atMillis now: Int64) {
        for (metric, value, unit) in KinesisMetrics.samples(event, in: scope) {
            record(metric, value, unit: unit, atMillis: now)
        }
    }
}
