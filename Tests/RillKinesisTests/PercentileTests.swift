import Foundation
import RillKinesis
import Testing

/// Percentiles: the per-minute sketch, and CloudWatch's ExtendedStatistics and `pNN` stats read from it.
@Suite struct PercentileTests {
    static let start: Int64 = 1_796_544_000_000

    /// A seeded spread of latencies, 0.05 ms to 400 ms, heavier at the low end as real latencies are.
    static func samples(seed: UInt64, count: Int) -> [Double] {
        var generator = SplitMix(seed: seed)
        return (0..<count).map { _ in
            let unit = Double(generator.next() >> 11) / Double(1 << 53)
            return 0.05 * pow(8_000, unit * unit)
        }
    }

    @Test("every percentile is within 1 % of the exact sample's value", arguments: [1, 7, 1_000, 20_000] as [UInt64])
    func accuracy(seed: UInt64) {
        let values = Self.samples(seed: seed, count: Int(seed % 5_000) + 2)
        var sketch = ValueSketch()
        for value in values { sketch.add(value) }
        let sorted = values.sorted()
        #expect(sketch.count == UInt64(values.count))
        for percentile in [0, 1, 25, 50, 90, 99, 99.9, 100] {
            let exact = sorted[Int((percentile / 100 * Double(values.count - 1)).rounded(.down))]
            let estimate = sketch.value(atPercentile: percentile)!
            #expect(abs(estimate - exact) <= exact * ValueSketch.relativeAccuracy * 1.0001, "p\(percentile)")
        }
    }

    @Test("sketches merge exactly: the merge of two halves is the sketch of the whole")
    func merging() {
        let values = Self.samples(seed: 3, count: 2_000)
        var whole = ValueSketch()
        var first = ValueSketch()
        var second = ValueSketch()
        for (n, value) in values.enumerated() {
            whole.add(value)
            if n % 2 == 0 { first.add(value) } else { second.add(value) }
        }
        first.merge(second)
        #expect(first == whole)
    }

    @Test("zero, negative and non-finite samples; an empty sketch has no percentiles")
    func edges() {
        var sketch = ValueSketch()
        #expect(sketch.value(atPercentile: 50) == nil)
        sketch.add(0)
        sketch.add(-1)
        sketch.add(.nan)
        sketch.add(.infinity)
        #expect(sketch.count == 2)
        #expect(sketch.value(atPercentile: 100) == 0)
        #expect(sketch.value(atPercentile: 101) == nil)
    }

    @Test("statistic names: the five basic ones and p0 to p100 with up to two decimals")
    func names() {
        #expect(CloudWatchQuery.Statistic(name: "Sum") == .sum)
        #expect(CloudWatchQuery.Statistic(name: "p99") == .percentile(name: "p99", value: 99))
        #expect(CloudWatchQuery.Statistic(name: "p99.9") == .percentile(name: "p99.9", value: 99.9))
        #expect(CloudWatchQuery.Statistic(name: "p0") == .percentile(name: "p0", value: 0))
        #expect(CloudWatchQuery.Statistic(name: "p100") == .percentile(name: "p100", value: 100))
        for bad in ["p", "p100.5", "p-1", "p9.999", "p1e2", "tm99", "P99", "p.5", "p5.", "sum"] {
            #expect(CloudWatchQuery.Statistic(name: bad) == nil, "\(bad)")
        }
    }

    var store: MetricStore {
        var store = MetricStore()
        let latency = MetricID(name: "PutRecord.Latency", dimensions: [.init("StreamName", "lab")])
        // 100 calls in the first minute: 1 ms to 100 ms.
        for n in 1...100 { store.record(latency, Double(n), unit: "Milliseconds", atMillis: Self.start + Int64(n)) }
        let records = MetricID(name: "IncomingRecords", dimensions: [.init("StreamName", "lab")])
        store.record(records, 5, unit: "Count", atMillis: Self.start)
        return store
    }

    func call(_ operation: String, _ body: String, wire: CloudWatchWire = .json10) -> (Int, String) {
        let reply = CloudWatchAPI.handle(
            wire: wire,
            operation: operation,
            body: Array(body.utf8),
            store: store,
            requestID: "r"
        )
        return (reply.status, String(decoding: reply.body, as: UTF8.self))
    }

    static let metric =
        #""Namespace":"AWS/Kinesis","MetricName":"PutRecord.Latency","Dimensions":[{"Name":"StreamName","Value":"lab"}]"#

    @Test("GetMetricStatistics answers ExtendedStatistics, in JSON and in the query protocol's XML map")
    func extendedStatistics() {
        let body =
            #"{"# + Self.metric
            + #","StartTime":1796544000,"EndTime":1796544600,"Period":60,"ExtendedStatistics":["p50","p99.5"]}"#
        let (status, text) = call("GetMetricStatistics", body)
        #expect(status == 200, "\(text)")
        let data = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let point = (data?["Datapoints"] as? [[String: Any]])?.first
        let extended = point?["ExtendedStatistics"] as? [String: Double]
        #expect(point?["Sum"] == nil)
        #expect(abs((extended?["p50"] ?? 0) - 50) <= 0.5)
        #expect(abs((extended?["p99.5"] ?? 0) - 99) <= 1)
        let form =
            "Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FKinesis&MetricName=PutRecord.Latency&Dimensions.member.1.Name=StreamName&Dimensions.member.1.Value=lab&StartTime=2026-12-06T08%3A00%3A00Z&EndTime=2026-12-06T08%3A10%3A00Z&Period=60&ExtendedStatistics.member.1=p99"
        let (_, xml) = call("GetMetricStatistics", form, wire: .query)
        #expect(xml.contains("<ExtendedStatistics><entry><key>p99</key><value>"), "\(xml)")
    }

    @Test("Statistics and ExtendedStatistics: one or the other; bad percentiles are refused")
    func combinations() {
        let window = #","StartTime":1796544000,"EndTime":1796544600,"Period":60"#
        for extra in [#","Statistics":["Sum"],"ExtendedStatistics":["p99"]"#, ""] {
            let (status, text) = call("GetMetricStatistics", "{" + Self.metric + window + extra + "}")
            #expect(status == 400 && text.contains("InvalidParameterCombination"), "\(text)")
        }
        let (status, text) = call(
            "GetMetricStatistics",
            "{" + Self.metric + window + #","ExtendedStatistics":["tm99"]}"#
        )
        #expect(status == 400 && text.contains("InvalidParameterValue"), "\(text)")
    }

    @Test("GetMetricData takes p99 as Stat; a metric without a sketch has no percentile points")
    func metricData() {
        func query(_ name: String) -> String {
            #"{"MetricDataQueries":[{"Id":"m1","MetricStat":{"Metric":{"Namespace":"AWS/Kinesis","MetricName":""#
                + name
                + #"","Dimensions":[{"Name":"StreamName","Value":"lab"}]},"Period":60,"Stat":"p90"}}],"StartTime":1796544000,"EndTime":1796544600}"#
        }
        let (status, text) = call("GetMetricData", query("PutRecord.Latency"))
        #expect(status == 200)
        let data = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let values = ((data?["MetricDataResults"] as? [[String: Any]])?.first?["Values"] as? [Double]) ?? []
        #expect(values.count == 1 && abs(values[0] - 90) <= 1, "\(text)")
        let (_, counts) = call("GetMetricData", query("IncomingRecords"))
        #expect(counts.contains(#""Values":[]"#), "\(counts)")
    }
}
