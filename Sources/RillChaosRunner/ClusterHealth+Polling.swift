// MARK: - Waiting for a whole cluster

extension ClusterHealth {
    /// Polls every node's status until the cluster is whole (`problem` is nil); returns the last problem if
    /// `timeout` passes first.
    static func wait(
        admin: AdminClient,
        cluster: any ChaosCluster,
        stream: String,
        shards: [String],
        within timeout: Duration
    ) async -> String? {
        let deadline = ContinuousClock.now + timeout
        var problem: String? = "not checked"
        while ContinuousClock.now < deadline, !Task.isCancelled {
            var statuses: [Int: NodeStatus?] = [:]
            for member in cluster.members { statuses[member.id] = await admin.status(at: member.api) }
            problem = Self.problem(statuses: statuses, ids: cluster.ids, stream: stream, shards: shards)
            if problem == nil { return nil }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return problem
    }
}
