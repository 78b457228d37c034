/// A change to the catalog: the payload of a `meta` log entry. Applied in log order on every replica,
/// so everything it needs (ids, clocks, epochs) is decided by the proposer and carried inside.
public enum CatalogCommand: Codable, Sendable, Equatable {
    case initialize(clusterID: String, iteratorKey: [UInt8])
    case createStream(CreateStreamCommand)
    case deleteStream(namespace: Namespace, name: String)
    case addTags(namespace: Namespace, name: String, tags: [String: String])
    case removeTags(namespace: Namespace, name: String, keys: [String])
    case setRetention(namespace: Namespace, name: String, hours: Int)
}

public struct CreateStreamCommand: Codable, Sendable, Equatable {
    public var namespace: Namespace
    public var name: String
    public var id: String
    public var shardCount: Int
    public var mode: StreamMode
    public var createdMillis: Int64
    /// max(wall seconds, …): children of later resharding get higher epochs than their parents.
    public var epoch: UInt64
    public var tags: [String: String]
    public var maxRecordSizeKiB: Int

    public init(
        namespace: Namespace, name: String, id: String, shardCount: Int, mode: StreamMode, createdMillis: Int64,
        epoch: UInt64, tags: [String: String], maxRecordSizeKiB: Int
    ) {
        self.namespace = namespace
        self.name = name
        self.id = id
        self.shardCount = shardCount
        self.mode = mode
        self.createdMillis = createdMillis
        self.epoch = epoch
        self.tags = tags
        self.maxRecordSizeKiB = maxRecordSizeKiB
    }
}
