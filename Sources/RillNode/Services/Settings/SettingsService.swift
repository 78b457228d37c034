import RillAPI
import RillKinesis
import RillModel

/// Stream and account settings: retention, enhanced monitoring, encryption, maximum record size, stream mode,
/// warm throughput, account settings, and DescribeLimits. Reads the catalog and proposes catalog commands.
struct SettingsService: CatalogService {
    let metadata: any CatalogView
    let proposer: any MetadataProposer
    /// Stamps the account settings' change time.
    let clock: any WallClock
    /// The key store StartStreamEncryption resolves its KeyId in and wraps the new data key with.
    let recordKeys: RecordKeys

    func describeLimits(_ namespace: Namespace) -> APIResponse {
        let catalog = metadata.catalog
        var w = JSONWriter()
        w.beginObject()
        w.key("ShardLimit")
        w.int(Catalog.shardLimit)
        w.key("OpenShardCount")
        w.int(catalog.openShardCount(in: namespace))
        w.key("OnDemandStreamCount")
        w.int(catalog.onDemandStreamCount(in: namespace))
        w.key("OnDemandStreamCountLimit")
        w.int(Catalog.onDemandStreamLimit)
        w.endObject()
        return APIResponse(w)
    }

    func changeRetention(_ r: inout RequestReader, _ namespace: Namespace, increase: Bool) async throws -> APIResponse {
        let hours = try r.integer("RetentionPeriodHours", required: true)
        let selector = try r.requireStream()
        guard let hours else { throw KinesisError(.validation, "RetentionPeriodHours is required") }
        let (stream, namespace) = try resolve(selector, namespace)
        if hours < 24 {
            throw KinesisError(
                .invalidArgument,
                "Minimum allowed retention period is 24 hours. Requested retention period (\(hours) hours) is too short."
            )
        }
        if hours > 8760 {
            throw KinesisError(
                .invalidArgument,
                "Maximum allowed retention period is 8760 hours. Requested retention period (\(hours) hours) is too long."
            )
        }
        if increase, hours < stream.retentionHours {
            throw KinesisError(
                .invalidArgument,
                "Requested retention period (\(hours) hours) for stream \(stream.name) can not be shorter than existing "
                    + "retention period (\(stream.retentionHours) hours). Use DecreaseRetentionPeriod API."
            )
        }
        if !increase, hours > stream.retentionHours {
            throw KinesisError(
                .invalidArgument,
                "Requested retention period (\(hours) hours) for stream \(stream.name) can not be longer than existing "
                    + "retention period (\(stream.retentionHours) hours). Use IncreaseRetentionPeriod API."
            )
        }
        try await commit(.setRetention(namespace: namespace, name: stream.name, hours: Int(hours)))
        return .empty
    }
}
