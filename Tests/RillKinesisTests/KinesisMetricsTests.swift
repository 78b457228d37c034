import RillKinesis
import Testing

/// Data-path events become AWS/Kinesis samples with AWS's names, units and dimensions; stores are per region,
/// trimmed to their retention, and answer a CloudWatch call's selection.
@Suite struct KinesisMetricsTests {
    static let start: Int64 = 1_796_544_000_000
    static let lab = KinesisMetrics.Scope(region: "us-east-1", stream: "lab", enhancedMetrics: nil)

    static func metric(_ name: String, _ dimensions: [(String, String)] = [("StreamName", "lab")]) -> MetricID {
        MetricID(name: name, dimensions: dimensions.map { MetricID.Dimension($0.0, $0.1) })
    }

    @Test("a PutRecords call counts its records once at stream level; its shard entries only when enhanced")
    func putRecordsAtStreamAndShardLevel() {
        var store = MetricStore()
        store.record(
            .incoming(shard: "shardId-000000000000", records: 3, bytes: 30),
            in: Self.lab,
            atMillis: Self.start
        )
        store.record(
            .putRecords(total: 5, successful: 3, throttled: 1, bytes: 30, latencyMillis: 4.5),
            in: Self.lab,
            atMillis: Self.start + 1
        )
        #expect(store.series[Self.metric("IncomingRecords")]?[Self.start] == MetricBucket(value: 3))
        #expect(store.series[Self.metric("IncomingBytes")]?[Self.start] == MetricBucket(value: 30))
        #expect(store.series[Self.metric("PutRecords.FailedRecords")]?[Self.start] == MetricBucket(value: 1))
        #expect(store.series[Self.metric("PutRecords.ThrottledRecords")]?[Self.start] == MetricBucket(value: 1))
        let latency = store.series[Self.metric("PutRecords.Latency")]?[Self.start]
        #expect(latency?.sum == 4.5 && latency?.sampleCount == 1 && latency?.sketch?.count == 1)
        #expect(latency?.value(atPercentile: 99) == 4.5, "a single sample is its own percentile")
        #expect(store.series[Self.metric("IncomingRecords")]?[Self.start]?.sketch == nil, "counts keep no sketch")
        #expect(store.units["PutRecords.Latency"] == "Milliseconds")
        #expect(store.series.keys.allSatisfy { $0.dimensions.count == 1 }, "no shard-level metrics unless enabled")

        let enhanced = KinesisMetrics.Scope(region: "us-east-1", stream: "lab", enhancedMetrics: ["IncomingRecords"])
        store.record(.incoming(shard: "shardId-000000000001", records: 2, bytes: 9), in: enhanced, atMillis: Self.start)
        let shard = Self.metric("IncomingRecords", [("StreamName", "lab"), ("ShardId", "shardId-000000000001")])
        #expect(store.series[shard]?[Self.start] == MetricBucket(value: 2))
        #expect(
            store.series[Self.metric("IncomingBytes", [("StreamName", "lab"), ("ShardId", "shardId-000000000001")])]
                == nil
        )
    }

    @Test("GetRecords records, bytes, age and latency; ALL turns on every shard-level metric")
    func getRecords() {
        var store = MetricStore()
        let all = KinesisMetrics.Scope(region: "us-east-1", stream: "lab", enhancedMetrics: ["ALL"])
        for (records, age) in [(10, Int64(500)), (0, Int64(0))] {
            store.record(
                .getRecords(
                    shard: "shardId-000000000000",
                    records: records,
                    bytes: records * 8,
                    iteratorAgeMillis: age,
                    latencyMillis: 2
                ),
                in: all,
                atMillis: Self.start + 10
            )
        }
        #expect(
            store.series[Self.metric("GetRecords.Records")]?[Self.start]
                == MetricBucket(sum: 10, sampleCount: 2, minimum: 0, maximum: 10)
        )
        #expect(store.series[Self.metric("GetRecords.IteratorAgeMilliseconds")]?[Self.start]?.maximum == 500)
        let shard = [("StreamName", "lab"), ("ShardId", "shardId-000000000000")]
        #expect(store.series[Self.metric("OutgoingRecords", shard)]?[Self.start]?.sum == 10)
        #expect(store.series[Self.metric("IteratorAgeMilliseconds", shard)]?[Self.start]?.maximum == 500)
        #expect(store.series[Self.metric("GetRecords.Records", shard)] == nil, "shard level has its own names")
    }

    @Test("enhanced fan-out metrics carry the consumer's name")
    func subscriptions() {
        var store = MetricStore()
        store.record(.subscribe(consumer: "app", admitted: false), in: Self.lab, atMillis: Self.start)
        store.record(
            .subscribeEvent(consumer: "app", records: 4, bytes: 40, millisBehindLatest: 0),
            in: Self.lab,
            atMillis: Self.start
        )
        let consumer = [("StreamName", "lab"), ("ConsumerName", "app")]
        #expect(store.series[Self.metric("SubscribeToShard.RateExceeded", consumer)]?[Self.start]?.sum == 1)
        #expect(store.series[Self.metric("SubscribeToShardEvent.Records", consumer)]?[Self.start]?.sum == 4)
    }

    @Test("stores are per region and drop buckets past the retention as minutes pass")
    func regionsAndRetention() {
        var stores = RegionalMetricStores(retentionMinutes: 60)
        let west = KinesisMetrics.Scope(region: "us-west-2", stream: "lab", enhancedMetrics: nil)
        stores.record(.putRecord(bytes: 5, latencyMillis: 1), in: Self.lab, atMillis: Self.start)
        stores.record(.putRecord(bytes: 7, latencyMillis: 1), in: west, atMillis: Self.start)
        let incoming = MetricSelection.series(
            [Self.metric("IncomingBytes")],
            fromMillis: Self.start,
            toMillis: Self.start + 60_000
        )
        #expect(
            stores.selecting(incoming, region: "us-east-1").series[Self.metric("IncomingBytes")]?[Self.start]?.sum == 5
        )
        #expect(
            stores.selecting(incoming, region: "us-west-2").series[Self.metric("IncomingBytes")]?[Self.start]?.sum == 7
        )
        #expect(stores.selecting(incoming, region: "eu-west-1").series.isEmpty)
        // Two hours later the first minute is gone, in both regions; the new event is kept.
        let later = Self.start + 120 * 60_000
        stores.record(.putRecord(bytes: 1, latencyMillis: 1), in: Self.lab, atMillis: later)
        #expect(stores.regions["us-west-2"] == nil)
        #expect(stores.regions["us-east-1"]?.series[Self.metric("IncomingBytes")]?.keys.sorted() == [later])
    }

    @Test("a selection keeps the asked metrics in the window, or for ListMetrics every match with one bucket")
    func selections() {
        var store = MetricStore()
        for minute in 0..<5 {
            store.record(
                .putRecord(bytes: 1, latencyMillis: 1),
                in: Self.lab,
                atMillis: Self.start + Int64(minute) * 60_000
            )
        }
        let window = store.selecting(
            .series([Self.metric("IncomingRecords")], fromMillis: Self.start + 60_000, toMillis: Self.start + 180_000)
        )
        #expect(window.series.count == 1)
        #expect(
            window.series[Self.metric("IncomingRecords")]?.keys.sorted() == [Self.start + 60_000, Self.start + 120_000]
        )
        #expect(window.units["IncomingRecords"] == "Count")
        let listed = store.selecting(
            .list(
                MetricFilter(namespace: "AWS/Kinesis", name: nil, dimensions: [.init(name: "StreamName", value: "lab")])
            )
        )
        #expect(listed.series.count == 5, "PutRecord.Bytes/Latency/Success, IncomingRecords/Bytes")
        #expect(listed.series.values.allSatisfy { $0.keys.sorted() == [Self.start + 240_000] })
        #expect(
            store.selecting(
                .list(MetricFilter(namespace: nil, name: nil, dimensions: [.init(name: "ShardId", value: nil)]))
            )
            .series.isEmpty
        )
    }

    @Test("a parsed call names what every node is asked for")
    func callSelection() throws {
        let call = try CloudWatchAPI.parse(
            wire: .json10,
            operation: "GetMetricStatistics",
            body: CloudWatchAPITests.json
        )
        #expect(
            call.selection
                == .series(
                    [Self.metric("IncomingRecords")],
                    fromMillis: CloudWatchAPITests.start,
                    toMillis: CloudWatchAPITests.start + 600_000
                )
        )
        let list = try CloudWatchAPI.parse(
            wire: .json10,
            operation: "ListMetrics",
            body: Array(#"{"MetricName":"IncomingRecords"}"#.utf8)
        )
        #expect(list.selection == .list(MetricFilter(namespace: nil, name: "IncomingRecords", dimensions: [])))
        #expect(throws: CloudWatchError.self) {
            _ = try CloudWatchAPI.parse(wire: .json10, operation: "PutMetricData", body: [])
        }
    }
}
