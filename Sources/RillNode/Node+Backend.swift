import RillAPI
import RillCluster
import RillKinesis

/// The node as the HTTP edge sees it: each call handed to the part that serves it.
extension Node: APIBackend {
    public var verifiesSignatures: Bool { configuration.credentials != nil }

    /// Serves one Kinesis call from a client: here when this node can, else on the node that must.
    public func handle(_ request: APIRequest) async throws -> APIResponse { try await calls.handle(request) }

    /// Starts a SubscribeToShard call, from this node's replica of the shard.
    public func subscribe(_ request: APIRequest) async throws -> any EventSubscription {
        try await calls.subscribe(request)
    }

    /// A node serves every subscription itself (from its replica, or it says which node holds one).
    public func subscriptionRelay(_ request: APIRequest) async throws -> String? { nil }

    public func readiness() async -> (ready: Bool, reason: String) { await admin.readiness() }

    public func adminStatus() async -> [UInt8] { await admin.adminStatus() }

    public func replicaChecksums() async throws -> [UInt8] { try await admin.replicaChecksums() }

    public func injectedFaults() -> FaultAnswer { faults.injectedFaults() }

    public func injectFaults(_ body: [UInt8]) -> FaultAnswer { faults.injectFaults(body) }

    public func removeMember(_ body: [UInt8]) async -> AdminAnswer { await membership.removeMember(body) }

    /// Verifies a request's SigV4 signature against the configured credentials and returns its region and
    /// caller; nil when the node runs without credentials (then any or no signature is accepted).
    public func authenticate(
        _ request: SigV4Verifier.Request,
        secureTransport: Bool
    ) throws(KinesisError) -> (region: String, principal: Principal)? {
        guard let keys = configuration.credentials else { return nil }
        return try keys.authenticate(request, nowMillis: clock.nowMillis(), secureTransport: secureTransport)
    }

    public func authorizeAdmin(_ principal: Principal, action: String) throws(KinesisError) {
        try configuration.credentials?.authorizeAdmin(principal, action: action)
    }

    /// What this node recorded, merged with what every other live node answers; a node alone answers alone.
    public func cloudWatchMetrics(_ selection: MetricSelection, region: String?) async -> MetricStore {
        let region = region ?? configuration.defaultRegion
        let local = metrics.cloudWatch.selecting(selection, region: region)
        guard let forwarder else { return local }
        return await forwarder.clusterMetrics(local: local, region: region, selection: selection, logger: logger)
    }
}
