import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RillHTTP
import RillModel
import RillNode
import Testing

@Suite struct AdminFaultsTests {
    static func withDispatcher(faultInjection: Bool, _ body: (RequestDispatcher) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rill-faults-\(UUID().uuidString)"
        ).path
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        var configuration = NodeConfiguration(
            id: NodeID(1),
            zone: Zone("az-a"),
            dataDirectory: directory,
            storageThreads: 1
        )
        configuration.faultInjection = faultInjection
        let node = try await Node.start(configuration: configuration, logger: logger)
        try await body(RequestDispatcher(backend: node, logger: logger))
        try await node.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func call(_ dispatcher: RequestDispatcher, _ method: HTTPMethod, _ body: String = "") async -> HTTPReply {
        await dispatcher.respond(
            to: HTTPRequestHead(version: .http1_1, method: method, uri: "/admin/faults"),
            body: ByteBuffer(string: body)
        )
    }

    static func json(_ reply: HTTPReply) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(reply.body.readableBytesView))) as? [String: Any] ?? [:]
    }

    @Test(
        "without --fault-injection every fault call is refused with 403",
        arguments: [
            "", #"{"heal":true}"#, #"{"isolate":[2]}"#, #"{"clock":{"jumpMillis":60000}}"#,
            #"{"loseUnsyncedWrites":true}"#,
        ]
    )
    func refusedWithoutFaultInjection(body: String) async throws {
        try await Self.withDispatcher(faultInjection: false) { dispatcher in
            let reply = await Self.call(dispatcher, body.isEmpty ? .GET : .POST, body)
            #expect(reply.status == .forbidden)
            #expect(String(buffer: reply.body).contains("--fault-injection"))
        }
    }

    @Test("with --fault-injection a clock jump shows in the faults and heal resets it")
    func clockJumpAndHeal() async throws {
        try await Self.withDispatcher(faultInjection: true) { dispatcher in
            let jumped = await Self.call(dispatcher, .POST, #"{"clock":{"jumpMillis":-600000}}"#)
            #expect(jumped.status == .ok)
            let clock = Self.json(jumped)["clock"] as? [String: Any]
            #expect(clock?["offsetMillis"] as? Int == -600_000)
            let healed = await Self.call(dispatcher, .POST, #"{"heal":true}"#)
            #expect((Self.json(healed)["clock"] as? [String: Any])?["offsetMillis"] as? Int == 0)
            let shown = await Self.call(dispatcher, .GET)
            #expect(shown.status == .ok)
            #expect((Self.json(shown)["isolated"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(
        "with --fault-injection a malformed command, or a cut on a one-node cluster, is a 400",
        arguments: [
            "[]", #"{"isolate":"2"}"#, #"{"drop":{"peer":2,"probability":1.5}}"#, #"{"clok":{}}"#, #"{"isolate":[2]}"#,
            #"{"delay":{"peer":2,"millis":-5}}"#, #"{"delay":{"peer":2,"millis":100,"jitterMillis":50}}"#,
        ]
    )
    func invalidCommands(body: String) async throws {
        try await Self.withDispatcher(faultInjection: true) { dispatcher in
            #expect(await Self.call(dispatcher, .POST, body).status == .badRequest)
        }
    }
}
