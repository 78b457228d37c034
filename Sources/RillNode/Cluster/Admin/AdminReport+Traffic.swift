import Foundation
import RillKinesis

extension AdminReport {
    /// The CloudWatch metrics the console graphs: records and bytes in and out, throttles, latency and iterator age.
    static let trafficMetricNames: Set<String> = [
        "IncomingRecords", "IncomingBytes", "GetRecords.Records", "GetRecords.Bytes", "OutgoingRecords",
        "OutgoingBytes", "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
        "PutRecord.Latency", "PutRecords.Latency", "GetRecords.Latency", "GetRecords.IteratorAgeMilliseconds",
        "SubscribeToShardEvent.Records", "SubscribeToShardEvent.MillisBehindLatest",
    ]
    /// How far back `traffic` reaches: the console's graphs show the last minutes.
    static let trafficMinutes: Int64 = 15

    /// Writes `"traffic": [...]`: this node's one-minute buckets of `trafficMetricNames` over the last
    /// `trafficMinutes`, one object per metric and dimension set. They are the same buckets CloudWatch calls
    /// read, recorded where calls are served, so the console sums them over nodes as GetMetricData does.
    func writeTraffic(into w: inout JSONWriter) {
        let now = clock.nowMillis()
        let store = metrics.cloudWatch.recent(
            Self.trafficMetricNames,
            fromMillis: now - Self.trafficMinutes * 60_000,
            toMillis: now + 60_000
        )
        w.key("traffic")
        w.beginArray()
        for (metric, buckets) in store.series.sorted(by: { $0.key.name < $1.key.name }) {
            w.beginObject()
            w.key("name")
            w.string(metric.name)
            w.key("unit")
            w.string(store.units[metric.name] ?? "None")
            for dimension in metric.dimensions {
                switch dimension.name {
                case "StreamName":
                    w.key("stream")
                    w.string(dimension.value)
                case "ShardId":
                    w.key("shardId")
                    w.string(dimension.value)
                case "ConsumerName":
                    w.key("consumer")
                    w.string(dimension.value)
                default: break
                }
            }
            // [minute start in millis, sum, sample count, maximum] per minute, oldest first; metrics in
            // milliseconds add their sketch, [zero count, bucket index, count, …], which the console merges over
            // nodes for percentiles.
            w.key("minutes")
            w.beginArray()
            for (minute, bucket) in buckets.sorted(by: { $0.key < $1.key }) {
                w.beginArray()
                w.int(minute)
                w.raw(Array(Self.number(bucket.sum).utf8))
                w.raw(Array(Self.number(bucket.sampleCount).utf8))
                w.raw(Array(Self.number(bucket.maximum).utf8))
                if let sketch = bucket.sketch {
                    w.beginArray()
                    w.int(sketch.zeroCount)
                    for (index, count) in sketch.bins.sorted(by: { $0.key < $1.key }) {
                        w.int(Int64(index))
                        w.int(count)
                    }
                    w.endArray()
                }
                w.endArray()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
    }

    /// A JSON number for a bucket value: whole numbers without a fraction, others to three places.
    private static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.3f", value)
    }
}
