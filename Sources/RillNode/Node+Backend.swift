import RillAPI
import RillCluster
import RillKinesis

extension Node: APIBackend {
    public var verifiesSignatures: Bool { configuration.credentials != nil }

    /// A node serves every subscription itself (from its replica, or it says which node holds one).
    public func subscriptionRelay(_ request: APIRequest) async throws -> String? { nil }

    /// What this node recorded, merged with what every other live node answers; a node alone answers alone.
    public func cloudWatchMetrics(_ selection: MetricSelection, region: String?) async -> MetricStore {
        let region = region ?? configuration.defaultRegion
        let local = metrics.cloudWatch.selecting(selection, region: region)
        guard let forwarder else { return local }
        return await forwarder.clusterMetrics(local: local, region: region, selection: selection, logger: logger)
    }
}
