import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RillHTTP
import RillModel
import RillNode
import Testing

/// `--admin`: which paths the API and the admin listener answer (docs/configuration.md).
@Suite struct HTTPEndpointsTests {
    static func status(
        _ dispatcher: RequestDispatcher,
        _ method: HTTPMethod,
        _ path: String,
        target: String? = nil
    ) async -> UInt {
        await dispatcher.respond(
            to: RequestDispatcherTests.head(method, path, target: target),
            body: ByteBuffer(string: "{}")
        )
        .status.code
    }

    @Test func theAdminListenerTakesMetricsAndOperatorEndpointsOffTheAPIButNotProbesOrStatus() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rill-http-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: directory) }
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
        func dispatcher(_ endpoints: HTTPEndpoints) -> RequestDispatcher {
            RequestDispatcher(
                backend: node,
                logger: logger,
                metrics: .discarded,
                metricsEndpoint: MetricsEndpoint(),
                endpoints: endpoints
            )
        }
        let listStreams = "Kinesis_20131202.ListStreams"
        for (endpoints, name) in [(HTTPEndpoints.all, "all"), (.apiBesideAdmin, "api"), (.admin, "admin")] {
            let d = dispatcher(endpoints)
            let isAPI = name != "admin"
            let hasOperations = name != "api"
            #expect(await Self.status(d, .GET, "/health") == 200, "\(name)")
            #expect(await Self.status(d, .GET, "/ready") == 200, "\(name)")
            #expect(await Self.status(d, .GET, "/admin/status") == 200, "\(name)")
            #expect(await Self.status(d, .GET, "/metrics") == (hasOperations ? 200 : 403), "\(name)")
            // The console goes where /metrics goes: the admin address when there is one.
            #expect(await Self.status(d, .GET, "/console") == (hasOperations ? 200 : 403), "\(name)")
            #expect(await Self.status(d, .GET, "/admin/checksums") == (hasOperations ? 200 : 403), "\(name)")
            // Faults are disabled on this node (403 either way) but must never reach the Kinesis dispatch.
            #expect(await Self.status(d, .POST, "/admin/faults") == 403, "\(name)")
            #expect(await Self.status(d, .POST, "/", target: listStreams) == (isAPI ? 200 : 403), "\(name)")
            #expect(await Self.status(d, .OPTIONS, "/") == (isAPI ? 200 : 403), "\(name)")
        }
        try await node.shutdown()
    }
}
