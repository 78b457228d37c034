import RillKinesis
import Synchronization

/// What the API port serves from the moment the process starts: "starting" until the node or router is up,
/// then that backend. One listener for the whole life of the process, so a client that saw `/health` answer
/// is never refused a connection afterwards (a separate listener for the starting phase left a gap between
/// closing it and binding the real one).
///
/// While starting: `/health` 200 (the process is alive), `/ready` 503 with the reason, every Kinesis call
/// ServiceUnavailable (503, which SDKs retry), admin calls 503. Nothing is served unauthenticated: calls are
/// refused before a signature would matter.
public final class StartingBackend: APIBackend {
    private let serving = Mutex<(any APIBackend)?>(nil)
    private let reason: @Sendable () -> String

    public init(reason: @escaping @Sendable () -> String) { self.reason = reason }

    /// From now on every call goes to `backend`.
    public func install(_ backend: any APIBackend) { serving.withLock { $0 = backend } }

    private var backend: (any APIBackend)? { serving.withLock { $0 } }

    private var notYet: KinesisError {
        KinesisError(.serviceUnavailable, "The node is starting (\(reason())); retry.")
    }

    public func handle(_ request: APIRequest) async throws -> APIResponse {
        guard let backend else { throw notYet }
        return try await backend.handle(request)
    }

    public func subscribe(_ request: APIRequest) async throws -> any EventSubscription {
        guard let backend else { throw notYet }
        return try await backend.subscribe(request)
    }

    public func subscriptionRelay(_ request: APIRequest) async throws -> String? {
        guard let backend else { throw notYet }
        return try await backend.subscriptionRelay(request)
    }

    public func readiness() async -> (ready: Bool, reason: String) {
        guard let backend else { return (false, reason()) }
        return await backend.readiness()
    }

    public func adminStatus() async -> [UInt8] {
        guard let backend else {
            var writer = JSONWriter(capacity: 128)
            writer.beginObject()
            writer.key("starting")
            writer.string(reason())
            writer.endObject()
            return writer.bytes
        }
        return await backend.adminStatus()
    }

    public func replicaChecksums() async throws -> [UInt8] {
        guard let backend else { throw notYet }
        return try await backend.replicaChecksums()
    }

    public var verifiesSignatures: Bool { backend?.verifiesSignatures ?? false }

    public func injectedFaults() -> FaultAnswer {
        guard let backend else { return .disabled("The node is starting (\(reason())); retry.") }
        return backend.injectedFaults()
    }

    public func injectFaults(_ body: [UInt8]) -> FaultAnswer {
        guard let backend else { return .disabled("The node is starting (\(reason())); retry.") }
        return backend.injectFaults(body)
    }

    public func removeMember(_ body: [UInt8]) async -> AdminAnswer {
        guard let backend else {
            return AdminAnswer(status: 503, message: "The node is starting (\(reason())); retry.")
        }
        return await backend.removeMember(body)
    }

    public func authorizeAdmin(_ principal: Principal, action: String) throws(KinesisError) {
        guard let backend else { throw notYet }
        try backend.authorizeAdmin(principal, action: action)
    }

    public func authenticate(
        _ request: SigV4Verifier.Request,
        secureTransport: Bool
    ) throws(KinesisError) -> (region: String, principal: Principal)? {
        guard let backend else { return nil }
        return try backend.authenticate(request, secureTransport: secureTransport)
    }

    public func cloudWatchMetrics(_ selection: MetricSelection, region: String?) async -> MetricStore {
        guard let backend else { return MetricStore(retentionMinutes: 1) }
        return await backend.cloudWatchMetrics(selection, region: region)
    }
}
