import RillModel

/// The metadata state machine: every stream of every namespace. A pure value; the node feeds it the
/// committed `meta` entries in order, and every replica that applies the same entries holds the same catalog.
public struct Catalog: Sendable, Equatable {
    public private(set) var clusterID: String?
    public private(set) var iteratorKey: [UInt8] = []
    var streams: [Namespace: [String: StreamMetadata]] = [:]
    /// The highest shard epoch ever assigned. Epochs are unique per shard generation, so a sequence number
    /// from one stream can never name a position in another stream created in the same second.
    public private(set) var lastEpoch: UInt64 = 0
    /// UpdateAccountSettings state per namespace.
    public private(set) var accountSettings: [Namespace: AccountSettings] = [:]
    /// The nodes shards are placed on.
    public internal(set) var members: [ClusterMember] = []
    /// Nodes taken out with `removeMember`: never placed on, nor added back by the controller.
    public internal(set) var removedMembers: [UInt64] = []
    /// Shards placed so far; the next shard's placement ordinal, so leadership rotates over zones.
    public private(set) var placedShards: UInt64 = 0
    /// Consumer groups by stream id, then by group name.
    var consumerGroups: [String: [String: ConsumerGroup]] = [:]
    /// Each node's last barrier (`CatalogCommand.barrier`): its nonce.
    public private(set) var barriers: [UInt64: UInt64] = [:]
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
        case .createStream(var create):
            if streams[create.namespace]?[create.name] != nil {
                return .failure(.streamExists(create.name, account: create.namespace.account))
            }
            // A shard's voters come from placement and nowhere else (ARCHITECTURE.md, rule): with no members
            // yet, nothing is created, and every replica of the catalog refuses alike. Entries from builds that
            // did not ask for this still apply as they did (the log replays from its start), unplaced; the
            // controller heals those (`healUnplacedShards`).
            if create.requiresPlacement == true, !canPlace { return .failure(Self.notPlaceable) }
            create.epoch = Swift.max(create.epoch, lastEpoch + 1)
            lastEpoch = create.epoch
            let shards = HashRange.evenSplit(count: create.shardCount).enumerated().map { index, range in
                ShardMetadata(
                    index: UInt32(index),
                    parent: nil,
                    adjacentParent: nil,
                    startingHashKey: range.start.description,
                    endingHashKey: range.end.description,
                    epoch: create.epoch,
                    createdMillis: create.createdMillis,
                    closedMillis: nil,
                    sealIndex: nil,
                    replicas: placeNextShard()
                )
            }
            streams[create.namespace, default: [:]][create.name] = StreamMetadata(
                name: create.name,
                namespace: create.namespace,
                id: create.id,
                createdMillis: create.createdMillis,
                status: .active,
                mode: create.mode,
                retentionHours: 24,
                shards: shards,
                nextShardIndex: UInt32(create.shardCount),
                maxRecordSizeKiB: create.maxRecordSizeKiB,
                tags: create.tags,
                encryptionKeyId: nil
            )
            return .success(())
        case .deleteStream(let namespace, let name):
            guard let removed = streams[namespace]?.removeValue(forKey: name) else {
                return .failure(.streamNotFound(name, account: namespace.account))
            }
            consumerGroups[removed.id] = nil
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
        case .setEnhancedMetrics(let namespace, let name, let metrics):
            return update(name, in: namespace) { stream in
                stream.enhancedMetrics = metrics
                return .success(())
            }
        case .setEncryption(let namespace, let name, let keyId, let dataKey, let rewrapped):
            return update(name, in: namespace) { stream in
                stream.encryptionKeyId = keyId
                if let rewrapped, rewrapped.count == stream.dataKeys?.count { stream.dataKeys = rewrapped }
                if let dataKey { stream.dataKeys = (stream.dataKeys ?? []) + [dataKey] }
                return .success(())
            }
        case .setMaxRecordSize(let namespace, let name, let kib):
            return update(name, in: namespace) { stream in
                stream.maxRecordSizeKiB = kib
                return .success(())
            }
        case .setStreamMode(let namespace, let name, let mode, let atMillis):
            let onDemand = onDemandStreamCount(in: namespace)
            return update(name, in: namespace) { stream in
                guard let now = atMillis else {
                    stream.mode = mode
                    return .success(())
                }
                return Self.switchMode(of: &stream, to: mode, atMillis: now, onDemandStreams: onDemand)
            }
        case .setWarmThroughput(let namespace, let name, let mibps):
            return update(name, in: namespace) { stream in
                stream.warmThroughputMiBps = mibps
                return .success(())
            }
        case .setPolicy(let namespace, let name, let consumer, let policy):
            return update(name, in: namespace) { stream in
                guard let consumer else {
                    stream.policy = policy
                    return .success(())
                }
                guard let position = stream.consumers?.firstIndex(where: { $0.name == consumer }) else {
                    return .failure(Self.consumerNotFound(consumer, stream: stream))
                }
                stream.consumers?[position].policy = policy
                return .success(())
            }
        case .registerConsumer(let namespace, let name, let consumer, let createdSeconds, let tags):
            return update(name, in: namespace) { stream in
                if stream.consumers?.contains(where: { $0.name == consumer }) == true {
                    return .failure(
                        KinesisError(
                            .resourceInUse,
                            "Consumer \(consumer) under stream \(stream.name) under account \(namespace.account) already exists."
                        )
                    )
                }
                stream.consumers =
                    (stream.consumers ?? []) + [
                        ConsumerMetadata(name: consumer, createdSeconds: createdSeconds, tags: tags, policy: nil)
                    ]
                return .success(())
            }
        case .deregisterConsumer(let namespace, let name, let consumer):
            return update(name, in: namespace) { stream in
                guard stream.consumers?.contains(where: { $0.name == consumer }) == true else {
                    return .failure(Self.consumerNotFound(consumer, stream: stream))
                }
                stream.consumers?.removeAll { $0.name == consumer }
                return .success(())
            }
        case .tagConsumer(let namespace, let name, let consumer, let tags, let removing):
            return update(name, in: namespace) { stream in
                guard let position = stream.consumers?.firstIndex(where: { $0.name == consumer }) else {
                    return .failure(Self.consumerNotFound(consumer, stream: stream))
                }
                stream.consumers?[position].tags.merge(tags) { _, new in new }
                for key in removing { stream.consumers?[position].tags.removeValue(forKey: key) }
                return .success(())
            }
        case .setAccountSettings(let namespace, let commitment, let changedMillis):
            accountSettings[namespace] = AccountSettings(commitment: commitment, changedMillis: changedMillis)
            return .success(())
        case .reshard(var reshard):
            reshard.epoch = Swift.max(reshard.epoch, lastEpoch + 1)
            guard var stream = streams[reshard.namespace]?[reshard.name] else {
                return .failure(.streamNotFound(reshard.name, account: reshard.namespace.account))
            }
            if reshard.requiresPlacement == true, !canPlace { return .failure(Self.notPlaceable) }
            let placements = reshard.children.map { _ in placeNextShard() }
            let result = Self.apply(reshard, placements: placements, to: &stream)
            if case .success = result {
                streams[reshard.namespace]?[reshard.name] = stream
                lastEpoch = reshard.epoch
                syncConsumerGroups(of: stream, atMillis: reshard.millis)
            } else {
                placedShards -= UInt64(placements.compactMap { $0 }.count)
            }
            return result
        case .setMembers(let members):
            self.members = members.sorted { $0.id < $1.id }
            return .success(())
        case .addMember(let member):
            return addMember(member)
        case .removeMember(let id):
            return removeMember(id)
        case .finishMove(let streamID, let shard):
            return finishMove(streamID: streamID, shard: shard)
        case .healUnplacedShards:
            return healUnplacedShards()
        case .barrier(let node, let nonce):
            barriers[node] = nonce
            return .success(())
        case .consumerGroup(let command):
            return apply(command).flatMap { outcome in
                guard case .refused(let refusal) = outcome else { return .success(()) }
                return .failure(Self.error(refusal))
            }
        }
    }

    /// The answer to a call that would create shards before the catalog has members to place them on: the
    /// first moments of a cluster, before the controller recorded the founders. Retryable, as AWS's own answer
    /// to calls on a stream that is still being created.
    public static let notPlaceable = KinesisError(
        .limitExceeded,
        "The cluster is still forming: no members to place new shards on yet. Retry shortly."
    )

    /// Whether a shard created now would get its replicas from placement.
    public var canPlace: Bool { !members.isEmpty }

    /// The replicas of a new shard, and the ordinal moves on; nil only for entries of older builds applied
    /// before the catalog had members (commands proposed now are refused instead).
    mutating func placeNextShard() -> [UInt64]? {
        guard canPlace else { return nil }
        defer { placedShards += 1 }
        return Placement.replicas(members: members, ordinal: placedShards)
    }

    static func consumerNotFound(_ consumer: String, stream: StreamMetadata) -> KinesisError {
        KinesisError(
            .resourceNotFound,
            "Consumer \(consumer) under stream \(stream.name) under account \(stream.namespace.account) not found."
        )
    }

    /// Applies a split or merge: parents close at their seal index, children open with the next indices.
    static func apply(
        _ reshard: ReshardCommand,
        placements: [[UInt64]?],
        to stream: inout StreamMetadata
    ) -> Result<Void, KinesisError> {
        for parent in reshard.parents {
            guard let shard = stream.shards.first(where: { $0.index == parent.index }), shard.isOpen else {
                // A reshard that raced another one past the node's check gets the answer that check gives.
                return .failure(
                    .shardNotEligible(
                        ShardID(index: parent.index).name,
                        stream: stream.name,
                        account: reshard.namespace.account
                    )
                )
            }
        }
        for parent in reshard.parents {
            guard let position = stream.shards.firstIndex(where: { $0.index == parent.index }) else { continue }
            stream.shards[position].closedMillis = reshard.millis
            stream.shards[position].sealIndex = parent.sealIndex
        }
        for (position, child) in reshard.children.enumerated() {
            let index = stream.nextShardIndex
            stream.nextShardIndex += 1
            stream.shards.append(
                ShardMetadata(
                    index: index,
                    parent: reshard.parents.first?.index,
                    adjacentParent: reshard.parents.count > 1 ? reshard.parents[1].index : nil,
                    startingHashKey: child.startingHashKey,
                    endingHashKey: child.endingHashKey,
                    epoch: reshard.epoch,
                    createdMillis: reshard.millis,
                    closedMillis: nil,
                    sealIndex: nil,
                    replicas: placements[position]
                )
            )
        }
        return .success(())
    }

    /// How often a stream's capacity mode may switch: twice in any 24 hours, as AWS allows.
    public static let modeSwitchesPerDay = 2

    /// UpdateStreamMode's rules, as AWS keeps them: the stream must be ACTIVE; the same mode is no change (and
    /// no switch counted); a third switch within 24 hours is LimitExceeded; on-demand streams count against the
    /// account's limit. Shards stay as they are either way.
    static func switchMode(
        of stream: inout StreamMetadata,
        to mode: StreamMode,
        atMillis now: Int64,
        onDemandStreams: Int
    ) -> Result<Void, KinesisError> {
        guard stream.status == .active else {
            return .failure(
                KinesisError(
                    .resourceInUse,
                    "Stream \(stream.name) under account \(stream.namespace.account) not ACTIVE, instead in state \(stream.status.rawValue)"
                )
            )
        }
        guard stream.mode != mode else { return .success(()) }
        let day: Int64 = 24 * 3_600_000
        let recent = (stream.modeSwitchesMillis ?? []).filter { now - $0 < day }
        if recent.count >= modeSwitchesPerDay, let oldest = recent.min() {
            return .failure(
                KinesisError(
                    .limitExceeded,
                    "The capacity mode of stream \(stream.name) under account \(stream.namespace.account) was already switched \(recent.count) times in the last 24 hours; it can switch again after \(CivilTime.iso8601(oldest + day))."
                )
            )
        }
        if mode == .onDemand, onDemandStreams >= onDemandStreamLimit {
            return .failure(
                KinesisError(.limitExceeded, "This request would exceed the on-demand stream limit for the account.")
            )
        }
        stream.mode = mode
        stream.modeSwitchesMillis = recent + [now]
        return .success(())
    }

    private mutating func update(
        _ name: String,
        in namespace: Namespace,
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

/// The account-level On-demand Advantage setting.
public struct AccountSettings: Sendable, Equatable {
    public var commitment: String
    public var changedMillis: Int64
}
