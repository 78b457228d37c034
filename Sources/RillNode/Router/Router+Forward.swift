import RillGossip
import RillKinesis
import RillModel
import RillTransport

extension Router {
    /// Sends the whole call to the node that leads `group` and returns its answer, following NotLeader
    /// redirects and skipping nodes that cannot be reached, until the forward deadline.
    func forward(_ request: APIRequest, to group: RaftGroupID) async throws -> APIResponse {
        let call = PeerCall.forward(
            operation: request.operation.rawValue, signedRegion: request.signedRegion, requestID: request.requestID,
            body: request.body)
        return try await untilServed(group) { target in
            switch try await self.transport.call(call, to: target, timeout: self.settings.callTimeout) {
            case .notDelivered: return nil
            case .answered(.response(let body)): return APIResponse(body: body)
            case .answered(let other): throw try Node.failure(other, from: target)
            }
        }
    }

    /// Runs `attempt` against the best candidate for `group` until one answers: a redirect's hint first, then
    /// the leader last seen, gossip's hint, and every other node in order of health. A node that could not be
    /// reached is skipped for the rest of this call. `attempt` returns nil when its target was not reached.
    func untilServed<T>(_ group: RaftGroupID, _ attempt: @escaping (NodeID) async throws -> T?) async throws -> T {
        let metrics = metrics
        let retry = ForwardRetry(
            deadline: settings.forwardDeadline, onRetry: { metrics.retried.increment() },
            onGiveUp: { metrics.gaveUp.increment() })
        var unreachable: Set<NodeID> = []
        return try await retry.untilServed { hint in
            let candidates = self.candidates(for: group, hint: hint).filter { !unreachable.contains($0) }
            guard let target = candidates.first else {
                // Everyone failed once: an election or a restart may have changed that; start over.
                unreachable = []
                return nil
            }
            metrics.forwarded.increment()
            do {
                guard let value = try await attempt(target) else {
                    unreachable.insert(target)
                    self.forgetLeader(of: group, ifItIs: target)
                    return nil
                }
                self.leaders.withLock { $0[group] = target }
                return value
            } catch let redirect as Redirect {
                metrics.redirected.increment()
                self.forgetLeader(of: group, ifItIs: target)
                if let next = redirect.hint { self.leaders.withLock { $0[group] = next } }
                throw redirect
            }
        }
    }

    /// Where to try `group`, best first, without nodes gossip has declared dead (unless nothing else is left).
    func candidates(for group: RaftGroupID, hint: NodeID?) -> [NodeID] {
        var ordered: [NodeID] = []
        func add(_ id: NodeID?) {
            guard let id, id != settings.id, !ordered.contains(id) else { return }
            ordered.append(id)
        }
        add(hint)
        add(leaders.withLock { $0[group] })
        add(gossip.leadershipHints()[group]?.leader)
        for node in nodesByHealth { add(node) }
        let live = ordered.filter { !isDown($0) }
        return live.isEmpty ? ordered : live
    }

    func forgetLeader(of group: RaftGroupID, ifItIs node: NodeID) {
        leaders.withLock { table in
            if table[group] == node { table[group] = nil }
        }
    }
}
