import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RillAPI
import RillCluster
import RillKinesis
import RillModel
import RillRaft
import RillReplication
import RillRouting
import RillStorage
import RillTransport

/// A client's Kinesis call from the edge to its service: served here when this node can, else sent through the
/// one forwarder to the node that must serve it (the metadata leader, or a shard's leader); authorized where it
/// is served. The node owns one and answers `APIBackend.handle` with it.
struct CallServer: Sendable {
    let me: NodeID
    let configuration: NodeConfiguration
    let metadata: MetadataStore
    let services: NodeServices
    /// Where SubscribeToShard's events come from: this node's replicas.
    let subscriptions: ShardSubscriptions
    let metrics: NodeMetrics
    /// Stamps the authorizer's requests (policy conditions on the time).
    let clock: any WallClock
    /// Sends calls to the nodes that must serve them; nil for a one-node cluster.
    let forwarder: Forwarder?

    /// Serves one Kinesis call from a client: here when this node can, else on the node that must (the
    /// metadata leader, or a shard's leader), through the one forwarder.
    func handle(_ request: APIRequest) async throws -> APIResponse {
        guard let forwarder else { return try await serve(request) }
        return try await forwarder.untilServed { hint in
            if let hint, hint != me {
                metrics.forwarded()
                do {
                    return try await forwarder.forward(request, to: hint)
                } catch is ShardSealed {
                    // Its records lie on shards led apart (`ForwardedAppend`): nothing was written there. Served
                    // here instead, by this node's catalog, which routes each shard's records to its leader.
                    throw Redirect(hint: nil)
                }
            }
            do {
                return try await serveHere(request)
            } catch let error as KinesisError where error.code == .resourceNotFound {
                // This node's catalog may trail the cluster's (just restarted, or a stream created a moment
                // ago): only the metadata leader's "not found" is the answer.
                let status = await metadata.driver.status
                guard status.role != .leader else { throw error }
                throw Redirect(hint: status.leader)
            }
        }
    }

    /// Serves a call on this node, or redirects: control-plane calls need the metadata leader; data-plane
    /// calls route themselves by shard.
    func serveHere(_ request: APIRequest) async throws -> APIResponse {
        if !request.operation.isDataPlane {
            let status = await metadata.driver.status
            guard status.role == .leader else { throw Redirect(hint: status.leader) }
        }
        return try await serve(request)
    }

    /// Serves one Kinesis call on this node. Errors a client should see are `KinesisError`s; anything else is
    /// a bug or an I/O failure and surfaces as InternalFailure at the HTTP edge.
    func serve(_ request: APIRequest) async throws -> APIResponse {
        var reader = try request.reader()
        let namespace = Namespace(
            account: configuration.accountID,
            region: request.signedRegion ?? configuration.defaultRegion
        )
        // Between the codec and the services, once per served call (a forwarded call where it is served).
        try authorize(request, reader.body, namespace)
        return try await services.serve(request, &reader, namespace)
    }

    /// Puts the call to the authorizer with the resource it acts on, as this node's catalog knows it.
    func authorize(_ request: APIRequest, _ body: JSONObject, _ namespace: Namespace) throws(KinesisError) {
        // Without credentials nothing is refused; spare the hot path the lookups.
        if configuration.authorizer.allowsEverything { return }
        let target = AccessTarget.of(request.operation, body: body)
        try configuration.authorizer.authorize(
            AuthorizationRequest(
                principal: request.principal,
                action: request.operation,
                resource: Resource.of(
                    target,
                    catalog: metadata.catalog,
                    namespace: namespace,
                    nowMillis: clock.nowMillis()
                ),
                region: namespace.region
            )
        )
    }

    /// Starts a SubscribeToShard call: the consumers service validates it (errors here are ordinary HTTP
    /// errors) and hands it back to `subscribe(stream:shard:from:namespace:)` for the events.
    func subscribe(_ request: APIRequest) async throws -> any EventSubscription {
        var r = try request.reader()
        let namespace = Namespace(
            account: configuration.accountID,
            region: request.signedRegion ?? configuration.defaultRegion
        )
        try authorize(request, r.body, namespace)
        return try await services.consumers.subscribe(&r, namespace, from: subscriptions)
    }

    /// The namespace a selector addresses (`CatalogView.resolve`).
    func resolve(_ selector: StreamSelector, _ namespace: Namespace) throws(KinesisError) -> (StreamMetadata, Namespace)
    {
        try services.catalog.resolve(selector, namespace)
    }
}
