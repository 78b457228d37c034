import RillAPI
import RillCluster
import RillKinesis
import RillModel

extension Router {
    /// Sends the whole call to the node that leads `group` and returns its answer (`Forwarder`): redirects are
    /// followed and nodes that cannot be reached skipped, until the forward deadline.
    func forward(_ request: APIRequest, to group: RaftGroupID) async throws -> APIResponse {
        try await forwarder.forward(request, toLeaderOf: group)
    }
}
