import RillAPI
import RillCluster
import RillKinesis
import RillModel

extension Node {
    /// Serves one Kinesis call on this node. Errors a client should see are `KinesisError`s; anything else is
    /// a bug or an I/O failure and surfaces as InternalFailure at the HTTP edge.
    func serve(_ request: APIRequest) async throws -> APIResponse {
        var reader = try request.reader()
        let namespace = Namespace(
            account: configuration.accountID,
            region: request.signedRegion ?? configuration.defaultRegion
        )
        // Between the codec and the services, once per served call (a forwarded call where it is served).
        try configuration.authorizer.authorize(
            AuthorizationRequest(
                principal: request.principal,
                action: request.operation,
                resource: .namespace(account: namespace.account, region: namespace.region)
            )
        )
        return try await services.serve(request, &reader, namespace)
    }

    /// Verifies a request's SigV4 signature against the configured credentials and returns its region;
    /// nil when the node runs without credentials (then any or no signature is accepted).
    public func authenticate(_ request: SigV4Verifier.Request) throws(KinesisError) -> String? {
        guard let verifier = configuration.credentials else { return nil }
        return try verifier.verify(request, nowMillis: clock.nowMillis())
    }

    /// The namespace a selector addresses (`CatalogView.resolve`).
    func resolve(_ selector: StreamSelector, _ namespace: Namespace) throws(KinesisError) -> (StreamMetadata, Namespace)
    {
        try services.catalog.resolve(selector, namespace)
    }
}
