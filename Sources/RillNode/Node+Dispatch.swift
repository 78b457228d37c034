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

    /// The namespace a selector addresses (`CatalogView.resolve`).
    func resolve(_ selector: StreamSelector, _ namespace: Namespace) throws(KinesisError) -> (StreamMetadata, Namespace)
    {
        try services.catalog.resolve(selector, namespace)
    }
}
