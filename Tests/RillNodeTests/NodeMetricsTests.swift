import Foundation
import MetricsTestKit
import RillKinesis
import RillModel
import RillNode
import Testing

/// The node's metrics, through a `TestMetrics` factory handed to the node (never the global bootstrap).
@Suite struct NodeMetricsTests {
    static func start() async throws -> (NodeHarness, TestMetrics) {
        let metrics = TestMetrics()
        return (try await NodeHarness.start(metrics: NodeMetrics(factory: metrics)), metrics)
    }

    static func putRecords(_ harness: NodeHarness, _ stream: String, count: Int, data: String) async throws {
        let encoded = Base64.encode(Array(data.utf8))
        let records = (0..<count).map { #"{"PartitionKey": "key-\#($0)", "Data": "\#(encoded)"}"# }.joined(
            separator: ","
        )
        try await harness.call(.putRecords, #"{"StreamName": "\#(stream)", "Records": [\#(records)]}"#)
    }

    @Test("a PutRecords of N records to stream S counts N incoming records and their bytes under stream=S")
    func incoming() async throws {
        let (harness, metrics) = try await Self.start()
        try await harness.call(.createStream, #"{"StreamName": "orders", "ShardCount": 3}"#)
        try await harness.call(.createStream, #"{"StreamName": "other", "ShardCount": 1}"#)
        try await Self.putRecords(harness, "orders", count: 25, data: "abcd")
        try await harness.call(.putRecord, #"{"StreamName": "other", "PartitionKey": "k", "Data": "AAAA"}"#)

        let orders = metrics.counters(label: "rill_kinesis_incoming_records_total").filter {
            $0.dimensions.contains { $0 == ("stream", "orders") }
        }
        #expect(orders.reduce(0) { $0 + $1.totalValue } == 25)
        // Every series names a shard of the stream, never a partition key.
        #expect(orders.allSatisfy { counter in counter.dimensions.map(\.0) == ["stream", "shard"] })
        #expect(
            orders.allSatisfy { counter in counter.dimensions.contains { $0.0 == "shard" && $0.1.hasPrefix("shardId-") }
            }
        )
        // Bytes are data plus partition key: 4 bytes of data and a "key-N" key per record.
        let keyBytes = (0..<25).reduce(0) { $0 + "key-\($1)".utf8.count }
        let orderBytes = metrics.counters(label: "rill_kinesis_incoming_bytes_total").filter {
            $0.dimensions.contains { $0 == ("stream", "orders") }
        }
        #expect(orderBytes.reduce(0) { $0 + $1.totalValue } == Int64(25 * 4 + keyBytes))
        #expect(
            try metrics.expectCounter(
                "rill_kinesis_incoming_records_total",
                [("stream", "other"), ("shard", "shardId-000000000000")]
            ).totalValue == 1
        )
        #expect(
            try metrics.expectTimer("rill_kinesis_put_records_latency_seconds", [("stream", "orders")]).values.count
                == 1
        )
        #expect(
            try metrics.expectTimer("rill_kinesis_put_record_latency_seconds", [("stream", "other")]).values.count == 1
        )
        // Declared for dashboards; nothing throttles yet.
        #expect(metrics.counterTotal(label: "rill_kinesis_write_provisioned_throughput_exceeded_total") == 0)
        #expect(!metrics.counters(label: "rill_kinesis_write_provisioned_throughput_exceeded_total").isEmpty)
        try await harness.cleanUp()
    }

    @Test("GetRecords counts the bytes and records it returns and the iterator age of the last one")
    func getRecords() async throws {
        let (harness, metrics) = try await Self.start()
        try await harness.call(.createStream, #"{"StreamName": "s", "ShardCount": 1}"#)
        try await Self.putRecords(harness, "s", count: 3, data: "hello")
        harness.clock.advance(byMillis: 1_500)
        let iterator = try await harness.call(
            .getShardIterator,
            #"{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}"#
        )
        let reply = try await harness.call(
            .getRecords,
            #"{"ShardIterator": "\#(iterator["ShardIterator"]?.string ?? "")"}"#
        )
        #expect(reply["Records"]?.array?.count == 3)

        let labels = [("stream", "s"), ("shard", "shardId-000000000000")]
        let keyBytes = "key-0key-1key-2".utf8.count
        #expect(
            try metrics.expectCounter("rill_kinesis_get_records_bytes_total", labels).totalValue
                == Int64(3 * 5 + keyBytes)
        )
        #expect(try metrics.expectCounter("rill_kinesis_outgoing_records_total", labels).totalValue == 3)
        #expect(
            try metrics.expectGauge("rill_kinesis_get_records_iterator_age_milliseconds", labels).lastValue == 1_500
        )
        #expect(
            try metrics.expectTimer("rill_kinesis_get_records_latency_seconds", [("stream", "s")]).values.count == 1
        )
        try await harness.cleanUp()
    }

    @Test("a put waits for a flush round, which records its batch size, an fsync time and a round")
    func flushRound() async throws {
        let (harness, metrics) = try await Self.start()
        try await harness.call(.createStream, #"{"StreamName": "s", "ShardCount": 1}"#)
        let roundsBefore = try metrics.expectCounter("rill_storage_flush_rounds_total").totalValue
        let batchesBefore = try metrics.expectRecorder("rill_storage_group_commit_batch").values.count
        try await harness.call(.putRecord, #"{"StreamName": "s", "PartitionKey": "k", "Data": "AAAA"}"#)

        #expect(try metrics.expectCounter("rill_storage_flush_rounds_total").totalValue > roundsBefore)
        let batches = try metrics.expectRecorder("rill_storage_group_commit_batch").values
        #expect(batches.count > batchesBefore)
        // The put was alone, so its round served exactly one waiter.
        #expect(batches.last == 1)
        #expect(try metrics.expectTimer("rill_storage_fsync_seconds").values.count >= batches.count)
        try await harness.cleanUp()
    }

    @Test("deleting a stream drops its series")
    func deleteDropsSeries() async throws {
        let (harness, metrics) = try await Self.start()
        try await harness.call(.createStream, #"{"StreamName": "gone", "ShardCount": 1}"#)
        try await harness.call(.putRecord, #"{"StreamName": "gone", "PartitionKey": "k", "Data": "AAAA"}"#)
        #expect(!metrics.counters(label: "rill_kinesis_incoming_records_total").isEmpty)
        try await harness.call(.deleteStream, #"{"StreamName": "gone"}"#)
        #expect(metrics.counters(label: "rill_kinesis_incoming_records_total").isEmpty)
        try await harness.cleanUp()
    }
}
