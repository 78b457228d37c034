import Logging
import RillGossip
import RillKinesis
import RillModel

/// CloudWatch reads across the cluster. Each node keeps the metrics of what it served itself; a CloudWatch
/// call to any node or router asks every node for its part (`PeerCall.metrics`) and merges the answers, so
/// nothing travels until someone asks (docs/metrics.md, "CloudWatch").
extension Forwarder {
    /// What the nodes answered for one CloudWatch call, and which did not.
    package struct GatheredMetrics: Sendable {
        package var store: MetricStore
        package var missing: [NodeID]
    }

    /// The CloudWatch answer for the whole cluster: `local` (what this process served itself) merged with the
    /// part of every other live node. A node that does not answer is left out and named in a warning, so a
    /// caller gets a prompt, partial answer instead of waiting on a dead node.
    package func clusterMetrics(
        local: MetricStore,
        region: String?,
        selection: MetricSelection,
        logger: Logger
    ) async -> MetricStore {
        let gathered = await gatherMetrics(into: local, region: region, selection: selection, from: metricNodes())
        if !gathered.missing.isEmpty {
            logger.warning(
                "a CloudWatch answer lacks the metrics of nodes that did not answer",
                metadata: ["peer.nodes": "\(gathered.missing.map(\.rawValue))"]
            )
        }
        return gathered.store
    }

    /// Every node gossip has not declared dead or gone, other than this process.
    package func metricNodes() -> [NodeID] {
        gossip.members.filter { $0.role == .node && $0.id != me && !isDown($0.id) }.map(\.id)
    }

    /// Asks each of `nodes` in parallel for its metrics of `selection` and merges them into `local`. A node
    /// that does not answer within `timeout` is left out and named in `missing`.
    package func gatherMetrics(
        into local: MetricStore,
        region: String?,
        selection: MetricSelection,
        from nodes: [NodeID],
        timeout: Duration = .seconds(2)
    ) async -> GatheredMetrics {
        var gathered = GatheredMetrics(store: local, missing: [])
        await withTaskGroup(of: (NodeID, MetricStore?).self) { group in
            for node in nodes {
                group.addTask {
                    do {
                        let outcome = try await self.send(
                            .metrics(region: region, selection: selection),
                            to: node,
                            timeout: timeout
                        )
                        guard case .answered(.metrics(let store)) = outcome else { return (node, nil) }
                        return (node, store)
                    } catch {
                        return (node, nil)
                    }
                }
            }
            for await (node, store) in group {
                if let store { gathered.store.merge(store) } else { gathered.missing.append(node) }
            }
        }
        return gathered
    }
}
