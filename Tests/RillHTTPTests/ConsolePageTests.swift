import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RillHTTP
import RillModel
import RillNode
import Testing

/// `GET /console`: the embedded page (docs/console.md).
@Suite struct ConsolePageTests {
    /// The page in the binary is the one in scripts/console/console.html: whoever edits the page regenerates it.
    @Test func theEmbeddedPageIsTheCommittedOne() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let source = try String(
            contentsOf: root.appendingPathComponent("scripts/console/console.html"),
            encoding: .utf8
        )
        #expect(
            ConsoleAsset.html == source.trimmingCharacters(in: .newlines),
            "run scripts/console/generate after editing scripts/console/console.html"
        )
    }

    /// It names nothing outside the binary: no scripts, styles or fonts from the internet.
    @Test func thePageLoadsNothingFromElsewhere() {
        for outside in ["http://", "https://", "<script src", "<link", "@import", "url("] {
            #expect(!ConsoleAsset.html.contains(outside), "\(outside)")
        }
    }

    @Test func itIsServedAsHTMLThatMayOnlyTalkToMembers() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "rill-console-\(UUID().uuidString)"
        )
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
        let dispatcher = RequestDispatcher(backend: node, logger: logger)
        for path in ["/console", "/console/"] {
            let reply = await dispatcher.respond(to: RequestDispatcherTests.head(.GET, path), body: ByteBuffer())
            #expect(reply.status == .ok)
            #expect(reply.headers.first(name: "Content-Type") == "text/html; charset=utf-8")
            #expect(reply.headers.first(name: "Content-Security-Policy")?.contains("default-src 'none'") == true)
            #expect(String(buffer: reply.body).contains("<title>Rill console</title>"))
        }
        // What the page reads: this node's status, with the events, streams and traffic sections it draws.
        let status = await dispatcher.respond(
            to: RequestDispatcherTests.head(.GET, "/admin/status"),
            body: ByteBuffer()
        )
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(status.body.readableBytesView)) as? [String: Any]
        )
        #expect(object["streams"] is [Any])
        #expect(object["traffic"] is [Any])
        #expect(object["nowMillis"] is Int)
        try await node.shutdown()
    }
}
