import CoreMetrics
import Metrics
import RillCluster
import RillKinesis
import RillModel
import RillReplication
import Synchronization

/// The Kinesis CloudWatch stream metrics of one node, as Prometheus-style names with `stream` and `shard`
/// dimensions (docs/metrics.md lists them all), and the same events as CloudWatch's `AWS/Kinesis` minute
/// buckets (`cloudWatch`), which GetMetricStatistics, GetMetricData and ListMetrics read.
///
/// Series are made the first time a stream or shard reports and cached by stream name and shard index,
/// so a put costs one locked dictionary lookup per shard it touches rather than a label allocation per
/// record. Both dimensions are bounded: streams by the account's stream count, shards by each stream's
/// shard count (closed shards included until the stream is deleted, when its series are destroyed).
public final class NodeMetrics: Sendable {
    /// The storage metrics the node's flusher reports into.
    public let storage: StorageMetrics
    /// The forwarder's counters.
    let cluster: ClusterMetrics
    /// Per-group Raft gauges.
    let raft: RaftMetrics
    /// The peer transport's counters, sampled once a second.
    let transport: TransportMetrics
    /// The `AWS/Kinesis` metrics CloudWatch calls read.
    public let cloudWatch: CloudWatchRecorder
    let factory: any MetricsFactory
    private let shards = Mutex<[ShardKey: ShardSeries]>([:])
    private let streams = Mutex<[String: StreamSeries]>([:])

    /// - Parameter factory: where series are made; tests pass a `TestMetrics`, `rill` its Prometheus factory.
    public init(
        factory: any MetricsFactory = MetricsSystem.factory,
        cloudWatch: CloudWatchRecorder = CloudWatchRecorder()
    ) {
        self.factory = factory
        self.cloudWatch = cloudWatch
        self.storage = StorageMetrics(factory: factory)
        self.cluster = ClusterMetrics(factory: factory)
        self.raft = RaftMetrics(factory: factory)
        self.transport = TransportMetrics(factory: factory)
    }

    // MARK: - What happened

    /// `records` records of `bytes` bytes (data plus partition keys, as Kinesis meters them) were
    /// written durably to one shard at `now`.
    public func recordsPut(_ stream: StreamMetadata, shard: ShardID, records: Int, bytes: Int, atMillis now: Int64) {
        let series = shardSeries(stream: stream.name, shard: shard)
        series.incomingRecords.increment(by: records)
        series.incomingBytes.increment(by: bytes)
        cloudWatch.record(.incoming(shard: shard.name, records: records, bytes: bytes), in: stream.scope, atMillis: now)
    }

    /// A PutRecord call on `stream` of `bytes` bytes succeeded after `duration`.
    public func putRecordSucceeded(_ stream: StreamMetadata, bytes: Int, after duration: Duration, atMillis now: Int64)
    {
        streamSeries(stream.name).putRecordLatency.record(duration: duration)
        cloudWatch.record(
            .putRecord(bytes: bytes, latencyMillis: duration.milliseconds),
            in: stream.scope,
            atMillis: now
        )
    }

    /// A PutRecords call on `stream` answered after `duration`: `total` records, `successful` of them
    /// written (`bytes` bytes), `throttled` refused for their shards' limits.
    public func putRecordsAnswered(
        _ stream: StreamMetadata,
        total: Int,
        successful: Int,
        throttled: Int,
        bytes: Int,
        after duration: Duration,
        atMillis now: Int64
    ) {
        streamSeries(stream.name).putRecordsLatency.record(duration: duration)
        cloudWatch.record(
            .putRecords(
                total: total,
                successful: successful,
                throttled: throttled,
                bytes: bytes,
                latencyMillis: duration.milliseconds
            ),
            in: stream.scope,
            atMillis: now
        )
    }

    /// A GetRecords call returned `records` records of `bytes` bytes from one shard after `duration`;
    /// `iteratorAgeMillis` is how old the last returned record was (0 when the reader is at the tip).
    public func recordsRead(
        _ stream: StreamMetadata,
        shard: ShardID,
        records: Int,
        bytes: Int,
        iteratorAgeMillis: Int64,
        after duration: Duration,
        atMillis now: Int64
    ) {
        let series = shardSeries(stream: stream.name, shard: shard)
        series.outgoingRecords.increment(by: records)
        series.getRecordsBytes.increment(by: bytes)
        series.iteratorAge.record(iteratorAgeMillis)
        streamSeries(stream.name).getRecordsLatency.record(duration: duration)
        cloudWatch.record(
            .getRecords(
                shard: shard.name,
                records: records,
                bytes: bytes,
                iteratorAgeMillis: iteratorAgeMillis,
                latencyMillis: duration.milliseconds
            ),
            in: stream.scope,
            atMillis: now
        )
    }

    /// `records` writes to a shard were refused for exceeding its throughput limit.
    public func writeThrottled(_ stream: StreamMetadata, shard: ShardID, records: Int, atMillis now: Int64) {
        shardSeries(stream: stream.name, shard: shard).writeThrottled.increment(by: Int64(records))
        cloudWatch.record(.writeThrottled(shard: shard.name, records: records), in: stream.scope, atMillis: now)
    }

    /// A GetRecords call on a shard was refused for exceeding its throughput limit.
    public func readThrottled(_ stream: StreamMetadata, shard: ShardID, atMillis now: Int64) {
        shardSeries(stream: stream.name, shard: shard).readThrottled.increment()
        cloudWatch.record(.readThrottled(shard: shard.name), in: stream.scope, atMillis: now)
    }

    /// A SubscribeToShard call of `consumer` started, or was refused because it already reads the shard.
    public func subscribed(_ stream: StreamMetadata, consumer: String, admitted: Bool, atMillis now: Int64) {
        cloudWatch.record(.subscribe(consumer: consumer, admitted: admitted), in: stream.scope, atMillis: now)
    }

    /// A SubscribeToShard event of `records` records (`bytes` bytes) went to `consumer`.
    public func subscriptionEventSent(
        _ stream: StreamMetadata,
        consumer: String,
        records: Int,
        bytes: Int,
        millisBehindLatest: Int64,
        atMillis now: Int64
    ) {
        cloudWatch.record(
            .subscribeEvent(consumer: consumer, records: records, bytes: bytes, millisBehindLatest: millisBehindLatest),
            in: stream.scope,
            atMillis: now
        )
    }

    /// `stream` was deleted: its series leave the exposition so deleted streams do not pile up.
    public func streamDeleted(_ stream: String) {
        let gone = shards.withLock { table -> [ShardSeries] in
            let keys = table.keys.filter { $0.stream == stream }
            return keys.compactMap { table.removeValue(forKey: $0) }
        }
        for series in gone { series.destroy() }
        streams.withLock { $0.removeValue(forKey: stream) }?.destroy()
    }

    // MARK: - Series cache

    private struct ShardKey: Hashable {
        var stream: String
        var shard: UInt32
    }

    private func shardSeries(stream: String, shard: ShardID) -> ShardSeries {
        let key = ShardKey(stream: stream, shard: shard.index)
        if let cached = shards.withLock({ $0[key] }) { return cached }
        // Made outside the lock (a factory may take its own); a racing maker's series wins and ours is
        // dropped, which is harmless because factories hand out the same series for the same labels.
        let made = ShardSeries(stream: stream, shard: shard, factory: factory)
        return shards.withLock { table in
            if let raced = table[key] { return raced }
            table[key] = made
            return made
        }
    }

    private func streamSeries(_ stream: String) -> StreamSeries {
        if let cached = streams.withLock({ $0[stream] }) { return cached }
        let made = StreamSeries(stream: stream, factory: factory)
        return streams.withLock { table in
            if let raced = table[stream] { return raced }
            table[stream] = made
            return made
        }
    }
}

/// One shard's series: the CloudWatch shard-level metrics.
private struct ShardSeries: Sendable {
    let incomingBytes: Counter
    let incomingRecords: Counter
    let getRecordsBytes: Counter
    let outgoingRecords: Counter
    let iteratorAge: Gauge
    let writeThrottled: Counter
    let readThrottled: Counter

    init(stream: String, shard: ShardID, factory: any MetricsFactory) {
        let labels = [("stream", stream), ("shard", shard.name)]
        incomingBytes = Counter(label: "rill_kinesis_incoming_bytes_total", dimensions: labels, factory: factory)
        incomingRecords = Counter(label: "rill_kinesis_incoming_records_total", dimensions: labels, factory: factory)
        getRecordsBytes = Counter(label: "rill_kinesis_get_records_bytes_total", dimensions: labels, factory: factory)
        outgoingRecords = Counter(label: "rill_kinesis_outgoing_records_total", dimensions: labels, factory: factory)
        iteratorAge = Gauge(
            label: "rill_kinesis_get_records_iterator_age_milliseconds",
            dimensions: labels,
            factory: factory
        )
        // Counted only when the node runs with --throughput-limits.
        writeThrottled = Counter(
            label: "rill_kinesis_write_provisioned_throughput_exceeded_total",
            dimensions: labels,
            factory: factory
        )
        readThrottled = Counter(
            label: "rill_kinesis_read_provisioned_throughput_exceeded_total",
            dimensions: labels,
            factory: factory
        )
    }

    func destroy() {
        incomingBytes.destroy()
        incomingRecords.destroy()
        getRecordsBytes.destroy()
        outgoingRecords.destroy()
        iteratorAge.destroy()
        writeThrottled.destroy()
        readThrottled.destroy()
    }
}

/// One stream's series: the per-call latencies, which span shards (a PutRecords touches many).
private struct StreamSeries: Sendable {
    let putRecordLatency: CoreMetrics.Timer
    let putRecordsLatency: CoreMetrics.Timer
    let getRecordsLatency: CoreMetrics.Timer

    init(stream: String, factory: any MetricsFactory) {
        let labels = [("stream", stream)]
        putRecordLatency = CoreMetrics.Timer(
            label: "rill_kinesis_put_record_latency_seconds",
            dimensions: labels,
            factory: factory
        )
        putRecordsLatency = CoreMetrics.Timer(
            label: "rill_kinesis_put_records_latency_seconds",
            dimensions: labels,
            factory: factory
        )
        getRecordsLatency = CoreMetrics.Timer(
            label: "rill_kinesis_get_records_latency_seconds",
            dimensions: labels,
            factory: factory
        )
    }

    func destroy() {
        putRecordLatency.destroy()
        putRecordsLatency.destroy()
        getRecordsLatency.destroy()
    }
}

extension StreamMetadata {
    /// Where CloudWatch files this stream's metrics.
    fileprivate var scope: KinesisMetrics.Scope {
        KinesisMetrics.Scope(region: namespace.region, stream: name, enhancedMetrics: enhancedMetrics)
    }
}

extension Duration {
    /// CloudWatch's latency unit.
    fileprivate var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
