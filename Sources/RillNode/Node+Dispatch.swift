import RillAPI
import RillCluster
import RillKinesis
import RillModel

extension Node {
    /// Serves one Kinesis call on this node. Errors a client should see are `KinesisError`s; anything else is
    /// a bug or an I/O failure and surfaces as InternalFailure at the HTTP edge.
    func serve(_ request: APIRequest) async throws -> APIResponse {
        var reader = try request.reader()
        let namespace = Namespace(account: configuration.accountID, region: request.signedRegion ?? configuration.defaultRegion)
        // Between the codec and the services, once per served call (a forwarded call where it is served).
        try configuration.authorizer.authorize(
            AuthorizationRequest(
                principal: request.principal, action: request.operation,
                resource: .namespace(account: namespace.account, region: namespace.region)))
        switch request.operation {
        case .createStream: return try await streams.createStream(&reader, namespace)
        case .deleteStream: return try await streams.deleteStream(&reader, namespace)
        case .listStreams: return try streams.listStreams(&reader, namespace)
        case .describeStream: return try streams.describeStream(&reader, namespace)
        case .describeStreamSummary: return try streams.describeStreamSummary(&reader, namespace)
        case .listShards: return try streams.listShards(&reader, namespace)
        case .putRecord: return try await records.putRecord(&reader, namespace, reach: request.reach)
        case .putRecords: return try await records.putRecords(&reader, namespace, reach: request.reach)
        case .getShardIterator: return try await records.getShardIterator(&reader, namespace)
        case .getRecords: return try await records.getRecords(&reader, namespace, replyProtocol: request.replyProtocol)
        case .increaseStreamRetentionPeriod: return try await settings.changeRetention(&reader, namespace, increase: true)
        case .decreaseStreamRetentionPeriod: return try await settings.changeRetention(&reader, namespace, increase: false)
        case .addTagsToStream: return try await tags.addTags(&reader, namespace)
        case .removeTagsFromStream: return try await tags.removeTags(&reader, namespace)
        case .listTagsForStream: return try tags.listTags(&reader, namespace)
        case .describeLimits: return settings.describeLimits(namespace)
        case .enableEnhancedMonitoring: return try await settings.changeEnhancedMonitoring(&reader, namespace, enable: true)
        case .disableEnhancedMonitoring: return try await settings.changeEnhancedMonitoring(&reader, namespace, enable: false)
        case .startStreamEncryption: return try await settings.changeEncryption(&reader, namespace, start: true)
        case .stopStreamEncryption: return try await settings.changeEncryption(&reader, namespace, start: false)
        case .updateMaxRecordSize: return try await settings.updateMaxRecordSize(&reader, namespace)
        case .updateStreamMode: return try await settings.updateStreamMode(&reader, namespace)
        case .updateStreamWarmThroughput: return try await settings.updateWarmThroughput(&reader, namespace)
        case .describeAccountSettings: return settings.describeAccountSettings(namespace)
        case .updateAccountSettings: return try await settings.updateAccountSettings(&reader, namespace)
        case .tagResource: return try await tags.tagResource(&reader, namespace)
        case .untagResource: return try await tags.untagResource(&reader, namespace)
        case .listTagsForResource: return try tags.listTagsForResource(&reader, namespace)
        case .putResourcePolicy: return try await tags.putResourcePolicy(&reader, namespace)
        case .getResourcePolicy: return try tags.getResourcePolicy(&reader, namespace)
        case .deleteResourcePolicy: return try await tags.deleteResourcePolicy(&reader, namespace)
        case .registerStreamConsumer: return try await consumers.registerConsumer(&reader, namespace)
        case .describeStreamConsumer: return try consumers.describeConsumer(&reader, namespace)
        case .listStreamConsumers: return try consumers.listConsumers(&reader, namespace)
        case .deregisterStreamConsumer: return try await consumers.deregisterConsumer(&reader, namespace)
        case .splitShard: return try await streams.splitShard(&reader, namespace)
        case .mergeShards: return try await streams.mergeShards(&reader, namespace)
        case .updateShardCount: return try await streams.updateShardCount(&reader, namespace)
        default:
            throw KinesisError(.unknownOperation, "Rill does not implement \(request.operation.rawValue) yet.")
        }
    }

    /// Verifies a request's SigV4 signature against the configured credentials and returns its region;
    /// nil when the node runs without credentials (then any or no signature is accepted).
    public func authenticate(_ request: SigV4Verifier.Request) throws(KinesisError) -> String? {
        guard let verifier = configuration.credentials else { return nil }
        return try verifier.verify(request, nowMillis: clock.nowMillis())
    }

    /// The namespace a selector addresses (`CatalogView.resolve`).
    func resolve(_ selector: StreamSelector, _ namespace: Namespace) throws(KinesisError) -> (StreamMetadata, Namespace) {
        try catalogView.resolve(selector, namespace)
    }

    func commit(_ command: CatalogCommand) async throws {
        try await proposer.commit(command)
    }
}
