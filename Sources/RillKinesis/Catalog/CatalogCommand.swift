/// A change to the catalog: the payload of a `meta` log entry. Applied in log order on every replica,
/// so everything it needs (ids, clocks, epochs) is decided by the proposer and carried inside.
public enum CatalogCommand: Codable, Sendable, Equatable {
    case initialize(clusterID: String, iteratorKey: [UInt8])
    case createStream(CreateStreamCommand)
    case deleteStream(namespace: Namespace, name: String)
    case addTags(namespace: Namespace, name: String, tags: [String: String])
    case removeTags(namespace: Namespace, name: String, keys: [String])
    case setRetention(namespace: Namespace, name: String, hours: Int)
    case setEnhancedMetrics(namespace: Namespace, name: String, metrics: [String])
    /// Starts (a key id, and the new data key that records are sealed with from then on) or stops (nil)
    /// encryption at rest. Data keys are only ever added, so older sealed entries stay readable. `rewrapped`:
    /// the stream's existing data keys wrapped again under their master keys' newest versions (rotation), the
    /// same keys, so no record is rewritten; ignored unless it has one for each.
    case setEncryption(
        namespace: Namespace,
        name: String,
        keyId: String?,
        dataKey: WrappedDataKey? = nil,
        rewrapped: [WrappedDataKey]? = nil
    )
    case setMaxRecordSize(namespace: Namespace, name: String, kib: Int)
    /// `atMillis`: when the proposer asked, which the twice-a-day limit counts from (nil in entries of older
    /// builds, which applied without the limit and replay so).
    case setStreamMode(namespace: Namespace, name: String, mode: StreamMode, atMillis: Int64? = nil)
    case setWarmThroughput(namespace: Namespace, name: String, mibps: Int)
    /// Attaches (or with nil, removes) a policy on a stream, or on one of its consumers.
    case setPolicy(namespace: Namespace, name: String, consumer: String?, policy: String?)
    case registerConsumer(
        namespace: Namespace,
        name: String,
        consumer: String,
        createdSeconds: Int64,
        tags: [String: String]
    )
    case deregisterConsumer(namespace: Namespace, name: String, consumer: String)
    case tagConsumer(namespace: Namespace, name: String, consumer: String, tags: [String: String], removing: [String])
    case setAccountSettings(namespace: Namespace, commitment: String, changedMillis: Int64)
    /// Closes `parent` at `sealIndex` and opens its children (resharding, ARCHITECTURE.md).
    case reshard(ReshardCommand)
    /// The voting nodes and their zones, set by the controller; shards placed after it use them.
    case setMembers([ClusterMember])
    /// A node that joined a formed cluster; shards with fewer replicas than zones allow get one on it.
    case addMember(ClusterMember)
    /// Takes a node out for good: its replicas move to other members, preferably in its zone.
    case removeMember(id: UInt64)
    /// The shard's group now has exactly its `replicas` as members: the leaving nodes may drop their copies.
    case finishMove(streamID: String, shard: UInt32)
    /// Places every shard that has no placement (made by builds that created shards before the founders were
    /// members, each node then leading its own copy alone): the placement's preferred leader keeps its copy,
    /// and the group grows from it to the placed replicas as in a move.
    case healUnplacedShards
    /// Consumer groups: create, delete, and every lease change (take, renew, release, checkpoint).
    case consumerGroup(ConsumerGroupCommand)
    /// A node's mark in the metadata log, changing nothing else. Entries apply in log order, so once a node
    /// has applied its own barrier its catalog holds everything committed before it: how a node restarted on
    /// a catalog that lags (it replays to its last recorded commit) learns that it has caught up.
    case barrier(node: UInt64, nonce: UInt64)
}

/// Split or merge: the parent shards are sealed in their logs first, then this command closes them in the
/// catalog and opens the children, whose epochs exceed every parent's.
public struct ReshardCommand: Codable, Sendable, Equatable {
    public struct Parent: Codable, Sendable, Equatable {
        public var index: UInt32
        public var sealIndex: UInt64
        public init(index: UInt32, sealIndex: UInt64) {
            self.index = index
            self.sealIndex = sealIndex
        }
    }
    public struct Child: Codable, Sendable, Equatable {
        public var startingHashKey: String
        public var endingHashKey: String
        public init(startingHashKey: String, endingHashKey: String) {
            self.startingHashKey = startingHashKey
            self.endingHashKey = endingHashKey
        }
    }
    public var namespace: Namespace
    public var name: String
    /// One parent for a split, two for a merge (ShardToMerge first, then the adjacent one).
    public var parents: [Parent]
    public var children: [Child]
    public var epoch: UInt64
    public var millis: Int64
    /// Refuse the command when the catalog has no members to place the children on. Set by every proposer
    /// now; nil in entries of older builds, which apply as they did (see `CreateStreamCommand`).
    public var requiresPlacement: Bool?

    public init(namespace: Namespace, name: String, parents: [Parent], children: [Child], epoch: UInt64, millis: Int64)
    {
        self.namespace = namespace
        self.name = name
        self.parents = parents
        self.children = children
        self.epoch = epoch
        self.millis = millis
        self.requiresPlacement = true
    }
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
    /// Refuse the command when the catalog has no members to place the shards on. Set by every proposer now;
    /// nil in entries of older builds, which created unplaced shards and must replay exactly as they applied.
    public var requiresPlacement: Bool?

    public init(
        namespace: Namespace,
        name: String,
        id: String,
        shardCount: Int,
        mode: StreamMode,
        createdMillis: Int64,
        epoch: UInt64,
        tags: [String: String],
        maxRecordSizeKiB: Int
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
        self.requiresPlacement = true
    }
}
