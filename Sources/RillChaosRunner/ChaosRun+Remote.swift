import NIOCore

/// `rill chaos --endpoint`: a cluster the harness did not start, found through its API addresses.
extension RemoteCluster {
    /// Asks every endpoint's `/admin/status` who it is: nodes become members (they must take fault commands,
    /// so they run with `--fault-injection`); routers only carry workload.
    static func discover(
        _ endpoints: [APIAddress],
        admin: AdminClient,
        within timeout: Duration
    )
        async throws(ChaosError) -> RemoteCluster
    {
        var members: [Member] = []
        var routers: [APIAddress] = []
        for endpoint in endpoints {
            let deadline = ContinuousClock.now + timeout
            var status = await admin.status(at: endpoint)
            while status == nil, ContinuousClock.now < deadline, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                status = await admin.status(at: endpoint)
            }
            guard let status else {
                throw .harness(
                    "--endpoint \(endpoint): no answer on /admin/status within \(timeout); is a rill node there?"
                )
            }
            if status.role == "router" {
                routers.append(endpoint)
                continue
            }
            if let twin = members.first(where: { $0.id == status.node }) {
                throw .harness("--endpoint \(endpoint) and \(twin.api) are both node \(status.node)")
            }
            if let refusal = await admin.faultHooksRefusal(at: endpoint) {
                throw .harness(
                    "--endpoint \(endpoint) (node \(status.node)) refuses /admin/faults (\(refusal)); "
                        + "start the nodes with --fault-injection"
                )
            }
            members.append(Member(id: status.node, api: endpoint))
        }
        guard members.count >= 3 else {
            throw .harness(
                "--endpoint names \(members.count) nodes; the faults need every node of a cluster of three or more"
            )
        }
        return RemoteCluster(members: members.sorted { $0.id < $1.id }, routers: routers)
    }
}
