import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RillHTTP
import RillModel
import RillNode
import Testing

@Suite struct RequestDispatcherTests {
    static func withDispatcher(_ body: (RequestDispatcher) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rill-http-\(UUID().uuidString)")
            .path
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let node = try await Node.start(
            configuration: NodeConfiguration(
                id: NodeID(1),
                zone: Zone("az-a"),
                dataDirectory: directory,
                storageThreads: 1
            ),
            logger: logger
        )
        try await body(RequestDispatcher(backend: node, logger: logger))
        try await node.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func head(
        _ method: HTTPMethod,
        _ uri: String = "/",
        target: String? = nil,
        headers extra: [(String, String)] = []
    ) -> HTTPRequestHead {
        var headers = HTTPHeaders(extra)
        if let target { headers.add(name: "X-Amz-Target", value: target) }
        return HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)
    }

    static func json(_ reply: HTTPReply) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(reply.body.readableBytesView))) as? [String: Any] ?? [:]
    }

    @Test("health answers 200; other GETs get the AWS 403 body")
    func healthAndForbidden() async throws {
        try await Self.withDispatcher { dispatcher in
            let health = await dispatcher.respond(to: Self.head(.GET, "/health"), body: ByteBuffer())
            #expect(health.status == .ok)
            let forbidden = await dispatcher.respond(to: Self.head(.GET, "/"), body: ByteBuffer())
            #expect(forbidden.status == .forbidden)
            #expect(
                String(buffer: forbidden.body).contains("Unable to determine service/operation name to be authorized")
            )
        }
    }

    @Test("an unknown target is UnknownOperationException with no message")
    func unknownTarget() async throws {
        try await Self.withDispatcher { dispatcher in
            for target in [nil, "Kinesis_20131202.Nope", "DynamoDB_20120810.ListTables"] {
                let reply = await dispatcher.respond(
                    to: Self.head(.POST, target: target),
                    body: ByteBuffer(string: "{}")
                )
                #expect(reply.status == .badRequest)
                #expect(reply.headers.first(name: "x-amzn-ErrorType") == "UnknownOperationException")
                #expect(Self.json(reply)["__type"] as? String == "UnknownOperationException")
            }
        }
    }

    @Test(
        "malformed bodies are SerializationExceptions and the node keeps serving",
        arguments: ["", "{", "[]", "{\"StreamName\": 5}", "\u{00}\u{ff}"]
    )
    func malformed(body: String) async throws {
        try await Self.withDispatcher { dispatcher in
            let reply = await dispatcher.respond(
                to: Self.head(.POST, target: "Kinesis_20131202.DescribeStream"),
                body: ByteBuffer(string: body)
            )
            #expect(reply.status == .badRequest)
            #expect(Self.json(reply)["__type"] as? String == "SerializationException")
            let ok = await dispatcher.respond(
                to: Self.head(.POST, target: "Kinesis_20131202.ListStreams"),
                body: ByteBuffer(string: "{}")
            )
            #expect(ok.status == .ok)
            #expect(ok.headers.first(name: "x-amzn-RequestId") != nil)
            #expect(ok.headers.first(name: "x-amz-id-2")?.count == 96)
        }
    }

    @Test("the SigV4 credential scope picks the region")
    func sigV4Region() {
        let headers = HTTPHeaders([
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-central-1/kinesis/aws4_request, SignedHeaders=host, Signature=abc"
            )
        ])
        #expect(SigV4Scope.region(headers) == "eu-central-1")
        #expect(SigV4Scope.region(HTTPHeaders()) == nil)
        #expect(SigV4Scope.region(HTTPHeaders([("Authorization", "Credential=broken")])) == nil)
        // The scope ends at a comma or a space; empty components do not count.
        let compact = "AWS4-HMAC-SHA256 Credential=AKID//20240101/us-west-2//kinesis/aws4_request,Signature=abc"
        #expect(SigV4Scope.region(HTTPHeaders([("Authorization", compact)])) == "us-west-2")
        #expect(SigV4Scope.region(HTTPHeaders([("Authorization", "Credential=A/B/C/D aws4_request")])) == nil)
        #expect(SigV4Scope.region(HTTPHeaders([("Authorization", "Credential")])) == nil)
        #expect(
            SigV4Scope.region(HTTPHeaders([("Authorization", "x Credential=AKID/d/ap-east-1/kinesis/r")]))
                == "ap-east-1"
        )
    }

    @Test("CORS preflight echoes the requested headers")
    func cors() async throws {
        try await Self.withDispatcher { dispatcher in
            let reply = await dispatcher.respond(
                to: Self.head(
                    .OPTIONS,
                    headers: [("Origin", "http://x"), ("Access-Control-Request-Headers", "x-amz-target")]
                ),
                body: ByteBuffer()
            )
            #expect(reply.status == .ok)
            #expect(reply.headers.first(name: "Access-Control-Allow-Origin") == "*")
            #expect(reply.headers.first(name: "Access-Control-Allow-Headers") == "x-amz-target")
        }
    }
}
