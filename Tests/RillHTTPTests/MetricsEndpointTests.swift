import Foundation
import Logging
import MetricsTestKit
import NIOCore
import NIOHTTP1
import RillHTTP
import RillKinesis
import RillModel
import RillNode
import Testing

/// `GET /metrics` through the dispatcher, with the node and API metrics made by the endpoint's own factory.
@Suite struct MetricsEndpointTests {
    static func withDispatcher(_ body: (RequestDispatcher) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rill-metrics-\(UUID().uuidString)"
        ).path
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let endpoint = MetricsEndpoint()
        let node = try await Node.start(
            configuration: NodeConfiguration(
                id: NodeID(1),
                zone: Zone("az-a"),
                dataDirectory: directory,
                storageThreads: 1
            ),
            logger: logger,
            metrics: NodeMetrics(factory: endpoint.factory)
        )
        let dispatcher = RequestDispatcher(
            backend: node,
            logger: logger,
            metrics: APIMetrics(factory: endpoint.factory),
            metricsEndpoint: endpoint
        )
        try await body(dispatcher)
        try await node.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func call(_ dispatcher: RequestDispatcher, _ operation: String, _ body: String) async -> HTTPReply {
        let head = HTTPRequestHead(
            version: .http1_1,
            method: .POST,
            uri: "/",
            headers: HTTPHeaders([("X-Amz-Target", "Kinesis_20131202.\(operation)")])
        )
        return await dispatcher.respond(to: head, body: ByteBuffer(string: body))
    }

    static func scrape(_ dispatcher: RequestDispatcher) async -> (HTTPReply, String) {
        let reply = await dispatcher.respond(
            to: HTTPRequestHead(version: .http1_1, method: .GET, uri: "/metrics"),
            body: ByteBuffer()
        )
        return (reply, String(buffer: reply.body))
    }

    @Test("GET /metrics is Prometheus text that changes as records flow; /health and /ready still answer")
    func scrapeChangesWithTraffic() async throws {
        try await Self.withDispatcher { dispatcher in
            let (before, beforeText) = await Self.scrape(dispatcher)
            #expect(before.status == .ok)
            #expect(before.headers.first(name: "Content-Type") == "text/plain; version=0.0.4")
            #expect(!beforeText.contains("rill_kinesis_incoming_records_total{"))

            #expect(await Self.call(dispatcher, "CreateStream", #"{"StreamName": "s", "ShardCount": 1}"#).status == .ok)
            let records = (0..<7).map { #"{"PartitionKey": "p\#($0)", "Data": "AAAA"}"# }.joined(separator: ",")
            #expect(
                await Self.call(dispatcher, "PutRecords", #"{"StreamName": "s", "Records": [\#(records)]}"#).status
                    == .ok
            )
            #expect(await Self.call(dispatcher, "DescribeStream", #"{"StreamName": "missing"}"#).status == .badRequest)

            let (after, text) = await Self.scrape(dispatcher)
            #expect(after.status == .ok)
            let lines = text.split(separator: "\n").map(String.init)
            #expect(lines.contains(#"rill_kinesis_incoming_records_total{stream="s",shard="shardId-000000000000"} 7"#))
            #expect(lines.contains("# TYPE rill_kinesis_incoming_records_total counter"))
            #expect(lines.contains("# TYPE rill_kinesis_put_records_latency_seconds histogram"))
            #expect(lines.contains("# TYPE rill_storage_fsync_seconds histogram"))
            #expect(lines.contains { $0.hasPrefix("rill_storage_flush_rounds_total ") })
            #expect(lines.contains(#"rill_api_requests_total{operation="PutRecords",status="200"} 1"#))
            #expect(lines.contains(#"rill_api_requests_total{operation="DescribeStream",status="400"} 1"#))
            #expect(
                lines.contains { $0.hasPrefix(#"rill_api_request_duration_seconds_count{operation="CreateStream"}"#) }
            )
            // Partition keys never become labels.
            #expect(!text.contains("p3"))

            for path in ["/health", "/ready"] {
                let reply = await dispatcher.respond(
                    to: HTTPRequestHead(version: .http1_1, method: .GET, uri: path),
                    body: ByteBuffer()
                )
                #expect(reply.status == .ok)
            }
        }
    }

    @Test("without an endpoint /metrics is an unknown GET, as before")
    func noEndpoint() async throws {
        try await RequestDispatcherTests.withDispatcher { dispatcher in
            let reply = await dispatcher.respond(
                to: HTTPRequestHead(version: .http1_1, method: .GET, uri: "/metrics"),
                body: ByteBuffer()
            )
            #expect(reply.status == .forbidden)
        }
    }

    @Test("API metrics count each answered call by operation and status")
    func apiMetrics() throws {
        let test = TestMetrics()
        let metrics = APIMetrics(factory: test)
        metrics.requestAnswered(operation: "ListStreams", status: 200, after: .milliseconds(2))
        metrics.requestAnswered(operation: "ListStreams", status: 200, after: .milliseconds(3))
        metrics.requestAnswered(operation: "unknown", status: 400, after: .milliseconds(1))
        #expect(
            try test.expectCounter("rill_api_requests_total", [("operation", "ListStreams"), ("status", "200")])
                .totalValue == 2
        )
        #expect(
            try test.expectCounter("rill_api_requests_total", [("operation", "unknown"), ("status", "400")]).totalValue
                == 1
        )
        #expect(
            try test.expectTimer("rill_api_request_duration_seconds", [("operation", "ListStreams")]).values == [
                2_000_000, 3_000_000,
            ]
        )
    }
}
