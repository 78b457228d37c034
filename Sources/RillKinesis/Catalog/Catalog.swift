import RillModel

/// The metadata state machine: every stream of every namespace. A pure value; the node feeds it the
/// committed `meta` entries in order, and every replica that applies the same entries holds the same catalog.
public struct Catalog: Sendable, Equatable {
    public private(set) var clusterID: String?
    public private(set) var iteratorKey: [UInt8] = []
    private var streams: [Namespace: [String: StreamMetadata]] = [:]
    /// The index of the last applied entry: the catalog's version.
    public private(set) var appliedIndex: LogIndex = .zero

    /// Default quotas of us-east-1 (KINESIS-SEMANTICS §5.1).
    public static let shardLimit = 20_000
    public static let onDemandStreamLimit = 50

    public init() {}

    public func stream(_ name: String, in namespace: Namespace) -> StreamMetadata? { streams[namespace]?[name] }

    /// Streams of a namespace in name order (ListStreams order).
    public func streams(in namespace: Namespace) -> [StreamMetadata] {
        (streams[namespace]?.values.map { $0 } ?? []).sorted { $0.name < $1.name }
    }

    public var allStreams: [StreamMetadata] { streams.values.flatMap(\.values) }

    public func openShardCount(in namespace: Namespace) -> Int {
        streams[namespace]?.values.reduce(0) { $0 + $1.openShards.count } ?? 0
    }

    public func onDemandStreamCount(in namespace: Namespace) -> Int {
        streams[namespace]?.values.filter { $0.mode == .onDemand }.count ?? 0
    }

    /// Applies one committed command. Failures are values: the proposer checked before proposing, but a
    /// concurrent command may have changed the catalog in between, and every replica must agree on the outcome.
    public mutating func apply(_ command: CatalogCommand, at index: LogIndex) -> Result<Void, KinesisError> {
        appliedIndex = Swift.max(appliedIndex, index)
        switch command {
        case .initialize(let clusterID, let iteratorKey):
            if self.clusterID == nil {
                self.clusterID = clusterID
                self.iteratorKey = iteratorKey
            }
            return .success(())
        case .createStream(let create):
            if streams[create.namespace]?[create.name] != nil {
                return .failure(.streamExists(create.name, account: create.namespace.account))
            }
            let shards = HashRange.evenSplit(count: create.shardCount).enumerated().map { index, range in
                ShardMetadata(
                    index: UInt32(index), parent: nil, adjacentParent: nil,
                    startingHashKey: range.start.description, endingHashKey: range.end.description,
                    epoch: create.epoch, createdMillis: create.createdMillis, closedMillis: nil, sealIndex: nil)
            }
            streams[create.namespace, default: [:]][create.name] = StreamMetadata(
                name: create.name, namespace: create.namespace, id: create.id, createdMillis: create.createdMillis,
                status: .active, mode: create.mode, retentionHours: 24, shards: shards,
                nextShardIndex: UInt32(create.shardCount), maxRecordSizeKiB: create.maxRecordSizeKiB,
                tags: create.tags, encryptionKeyId: nil)
            return .success(())
        case .deleteStream(let namespace, let name):
            guard streams[namespace]?.removeValue(forKey: name) != nil else {
                return .failure(.streamNotFound(name, account: namespace.account))
            }
            return .success(())
        case .addTags(let namespace, let name, let tags):
            return update(name, in: namespace) { stream in
                stream.tags.merge(tags) { _, new in new }
                return .success(())
            }
        case .removeTags(let namespace, let name, let keys):
            return update(name, in: namespace) { stream in
                for key in keys { stream.tags.removeValue(forKey: key) }
                return .success(())
            }
        case .setRetention(let namespace, let name, let hours):
            return update(name, in: namespace) { stream in
                stream.retentionHours = hours
                return .success(())
            }
        }
    }

    private mutating func update(
        _ name: String, in namespace: Namespace,
        _ body: (inout StreamMetadata) -> Result<Void, KinesisError>
    ) -> Result<Void, KinesisError> {
        guard var stream = streams[namespace]?[name] else {
            return .failure(.streamNotFound(name, account: namespace.account))
        }
        let result = body(&stream)
        streams[namespace]?[name] = stream
        return result
    }
}
