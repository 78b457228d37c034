import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RillAPI
import RillHTTP
import RillKinesis
import RillModel
import RillNode
import RillTestKit
import Testing

/// A backend whose calls fail with an error that is not a Kinesis error, after logging a line of its own.
private struct FailingBackend: APIBackend {
    struct Broken: Error {}
    let logger: Logger
    func handle(_ request: APIRequest) async throws -> APIResponse {
        logger.warning("backend could not serve the call")
        throw Broken()
    }
    func subscribe(_ request: APIRequest) async throws -> any EventSubscription { throw Broken() }
    func subscriptionRelay(_ request: APIRequest) async throws -> String? { nil }
    func readiness() async -> (ready: Bool, reason: String) { (true, "ready") }
    func adminStatus() async -> [UInt8] { [] }
    func replicaChecksums() async throws -> [UInt8] { [] }
    var verifiesSignatures: Bool { false }
    func injectedFaults() -> FaultAnswer { .disabled("no") }
    func injectFaults(_ body: [UInt8]) -> FaultAnswer { .disabled("no") }
    func removeMember(_ body: [UInt8]) async -> AdminAnswer { AdminAnswer(status: 400, message: "no") }
    func authorizeAdmin(_ principal: Principal, action: String) throws(KinesisError) {}
    func authenticate(
        _ request: SigV4Verifier.Request,
        secureTransport: Bool
    ) throws(KinesisError) -> (region: String, principal: Principal)? { nil }
    func cloudWatchMetrics(_ selection: MetricSelection, region: String?) async -> MetricStore { MetricStore() }
}

/// Lines logged while a client request is served carry `request.id`, the `x-amzn-RequestId` of its reply,
/// and never the request's partition keys or record data (docs/operations.md, "Logs").
@Suite struct RequestLoggingTests {
    static func post(_ operation: String) -> HTTPRequestHead {
        HTTPRequestHead(
            version: .http1_1,
            method: .POST,
            uri: "/",
            headers: HTTPHeaders([("X-Amz-Target", "Kinesis_20131202.\(operation)")])
        )
    }

    @Test func aFailedRequestsLinesCarryTheRequestIdOfItsReply() async throws {
        let capture = LogCapture(
            level: .info,
            metadata: ["rill.node": "1", "rill.az": "az-a"],
            metadataProvider: RequestLogContext.metadataProvider
        )
        let dispatcher = RequestDispatcher(backend: FailingBackend(logger: capture.logger), logger: capture.logger)
        let reply = await dispatcher.respond(to: Self.post("ListStreams"), body: ByteBuffer(string: "{}"))
        #expect(reply.status == .internalServerError)
        let requestID = try #require(reply.headers.first(name: "x-amzn-RequestId"))
        let failed = try #require(capture.lines("request failed").first)
        #expect(failed.level == .error)
        #expect(failed.metadata["request.id"] == "\(requestID)")
        #expect(failed.metadata["rill.node"] == "1" && failed.metadata["rill.az"] == "az-a")
        // The backend's own line, logged with its own logger, gets the id from the request's task.
        let backendLine = try #require(capture.lines("backend could not serve the call").first)
        #expect(backendLine.metadata["request.id"] == "\(requestID)")

        // The next request has another id, and a line outside any request has none.
        let second = await dispatcher.respond(to: Self.post("ListStreams"), body: ByteBuffer(string: "{}"))
        let secondID = try #require(second.headers.first(name: "x-amzn-RequestId"))
        #expect(secondID != requestID)
        #expect(capture.lines("request failed").last?.metadata["request.id"] == "\(secondID)")
        capture.logger.info("between requests")
        #expect(capture.lines("between requests").first?.metadata["request.id"] == nil)
    }

    @Test func aRequestRefusedByValidationLogsNoPartitionKeyOrRecordData() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rill-http-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Trace: everything any level would ever write.
        let capture = LogCapture(level: .trace, metadataProvider: RequestLogContext.metadataProvider)
        let node = try await Node.start(
            configuration: NodeConfiguration(
                id: NodeID(1),
                zone: Zone("az-a"),
                dataDirectory: directory,
                storageThreads: 1
            ),
            logger: capture.logger
        )
        let dispatcher = RequestDispatcher(backend: node, logger: capture.logger)
        let created = await dispatcher.respond(
            to: Self.post("CreateStream"),
            body: ByteBuffer(string: #"{"StreamName":"logs","ShardCount":1}"#)
        )
        #expect(created.status == .ok)

        let partitionKey = "pk-" + String(repeating: "confidential", count: 30)  // 363 characters: over the 256 limit
        let data = Data("card 4111 1111 1111 1111".utf8)
        let encoded = data.base64EncodedString()
        let secrets = [partitionKey, "confidentialconfidential", encoded, "4111 1111"]
        let bodies = [
            #"{"StreamName":"logs","PartitionKey":"\#(partitionKey)","Data":"\#(encoded)"}"#,
            #"{"StreamName":"logs","Records":[{"PartitionKey":"\#(partitionKey)","Data":"\#(encoded)"}]}"#,
            #"{"StreamName":"missing","PartitionKey":"pk-confidentialconfidential","Data":"\#(encoded)"}"#,
        ]
        for (operation, body) in zip(["PutRecord", "PutRecords", "PutRecord"], bodies) {
            let reply = await dispatcher.respond(to: Self.post(operation), body: ByteBuffer(string: body))
            #expect(reply.status == .badRequest)
            // The client still hears what was wrong, values included, as from Kinesis.
            if body.contains("\"logs\"") { #expect(String(buffer: reply.body).contains("confidential")) }
            let requestID = try #require(reply.headers.first(name: "x-amzn-RequestId"))
            // The refusal is logged (so the check below looks at a real line), by code and request id only.
            let refused = try #require(capture.lines("request refused").last)
            #expect(refused.metadata["request.id"] == "\(requestID)")
            #expect(refused.metadata["operation"] == "\(operation)")
        }
        try await node.shutdown()

        #expect(!capture.entries.isEmpty)
        for entry in capture.entries {
            let text = "\(entry.message) \(entry.metadata)"
            for secret in secrets { #expect(!text.contains(secret), "a log line carries request data: \(text)") }
        }
    }
}
