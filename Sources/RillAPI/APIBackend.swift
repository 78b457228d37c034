import RillKinesis

/// What the HTTP API serves: a node, or a router in front of the nodes. The HTTP layer only parses, signs
/// and renders; everything a call means happens behind this.
public protocol APIBackend: Sendable {
    /// Serves one Kinesis call (SubscribeToShard excepted).
    func handle(_ request: APIRequest) async throws -> APIResponse
    /// Starts a SubscribeToShard call.
    func subscribe(_ request: APIRequest) async throws -> any EventSubscription
    /// The API address (`host:port`) of the node a SubscribeToShard call must be relayed to, or nil when this
    /// backend serves it itself.
    func subscriptionRelay(_ request: APIRequest) async throws -> String?
    /// For `/ready`: whether calls can be served now, and why not.
    func readiness() async -> (ready: Bool, reason: String)
    /// `GET /admin/status` as JSON.
    func adminStatus() async -> [UInt8]
    /// `GET /admin/checksums` as JSON.
    func replicaChecksums() async throws -> [UInt8]
    /// Whether requests must carry a valid SigV4 signature.
    var verifiesSignatures: Bool { get }
    /// `GET /admin/faults`: the injected faults in force (chaos testing).
    func injectedFaults() -> FaultAnswer
    /// `POST /admin/faults`: applies a fault command (chaos testing).
    func injectFaults(_ body: [UInt8]) -> FaultAnswer
    /// `POST /admin/members/remove`: takes a node out of the cluster for good.
    func removeMember(_ body: [UInt8]) async -> AdminAnswer
    /// Whether `principal` may call the admin endpoint standing for `action` (`rill:RemoveMember`, ...); asked
    /// only when signatures are checked and the endpoint shares the Kinesis API's listener.
    func authorizeAdmin(_ principal: Principal, action: String) throws(KinesisError)
    /// Verifies a signed request and returns its region and caller (nil when signatures are not checked).
    func authenticate(
        _ request: SigV4Verifier.Request,
        secureTransport: Bool
    ) throws(KinesisError) -> (region: String, principal: Principal)?
    /// The cluster's metrics for a CloudWatch call in `region` (nil: the default region): this process's own
    /// merged with every live node's (docs/metrics.md, "CloudWatch").
    func cloudWatchMetrics(_ selection: MetricSelection, region: String?) async -> MetricStore
}
