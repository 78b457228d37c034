import Foundation
import Logging
import NIOConcurrencyHelpers
import RillAPI
import RillKinesis
import RillModel
import RillNode

/// A wall clock tests move by hand.
final class ManualWallClock: WallClock {
    private let millis: NIOLockedValueBox<Int64>
    init(_ start: Int64 = 1_700_000_000_000) { millis = NIOLockedValueBox(start) }
    func nowMillis() -> Int64 { millis.withLockedValue { $0 } }
    func advance(byMillis delta: Int64) { millis.withLockedValue { $0 += delta } }
}

/// A node in a temporary directory, driven through `handle` with JSON bodies.
struct NodeHarness {
    let directory: String
    let clock: ManualWallClock
    var node: Node

    static func start(
        segmentBytes: Int = 64 << 20,
        directory: String? = nil,
        clock: ManualWallClock = ManualWallClock(),
        metrics: NodeMetrics = NodeMetrics(),
        throughputLimits: Bool = false,
        authorizer: any Authorizer = AllowAll()
    ) async throws -> NodeHarness {
        let directory =
            directory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("rill-node-\(UUID().uuidString)").path
        var configuration = NodeConfiguration(
            id: NodeID(1),
            zone: Zone("az-a"),
            dataDirectory: directory,
            storageThreads: 2,
            segmentBytes: segmentBytes,
            throughputLimits: throughputLimits
        )
        configuration.authorizer = authorizer
        let node = try await Node.start(
            configuration: configuration,
            clock: clock,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            metrics: metrics
        )
        return NodeHarness(directory: directory, clock: clock, node: node)
    }

    func restart() async throws -> NodeHarness {
        try await node.shutdown()
        return try await NodeHarness.start(
            segmentBytes: node.configuration.segmentBytes,
            directory: directory,
            clock: clock
        )
    }

    func cleanUp() async throws {
        try await node.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Calls an operation and returns the parsed reply object (empty for operations without output).
    @discardableResult
    func call(
        _ operation: KinesisOperation,
        _ body: String,
        region: String? = nil,
        as principal: Principal = .anonymous
    ) async throws -> JSONObject {
        let response = try await node.handle(
            APIRequest(
                operation: operation,
                body: Array(body.utf8),
                signedRegion: region,
                requestID: "test",
                principal: principal
            )
        )
        if response.body.isEmpty { return JSONObject() }
        guard case .object(let object) = try JSONParser.parse(response.body) else {
            throw KinesisError.internalFailure("reply is not an object")
        }
        return object
    }

    /// Calls an operation that must fail and returns its error.
    func failure(
        _ operation: KinesisOperation,
        _ body: String,
        as principal: Principal = .anonymous
    ) async -> KinesisError? {
        do {
            _ = try await call(operation, body, as: principal)
            return nil
        } catch let error as KinesisError {
            return error
        } catch {
            return KinesisError.internalFailure("\(error)")
        }
    }
}

extension JSONValue {
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    var object: JSONObject? { if case .object(let o) = self { o } else { nil } }
    var number: String? { if case .number(let n) = self { n } else { nil } }
}
