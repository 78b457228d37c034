import RillModel

/// A stream's lifecycle as Kinesis reports it.
public enum StreamStatus: String, Codable, Sendable {
    case creating = "CREATING"
    case active = "ACTIVE"
    case updating = "UPDATING"
    case deleting = "DELETING"
}

/// Capacity mode of a stream.
public enum StreamMode: String, Codable, Sendable, CaseIterable {
    case provisioned = "PROVISIONED"
    case onDemand = "ON_DEMAND"
}

/// One shard as the metadata group knows it: its place in the hash space, lineage and epoch.
public struct ShardMetadata: Codable, Sendable, Equatable {
    public var index: UInt32
    public var parent: UInt32?
    public var adjacentParent: UInt32?
    /// Decimal strings, the wire form; parsed with `hashRange`.
    public var startingHashKey: String
    public var endingHashKey: String
    /// Fixed once by the controller; the high bits of every sequence number of this shard.
    public var epoch: UInt64
    public var createdMillis: Int64
    /// Set when the shard is sealed by resharding.
    public var closedMillis: Int64?
    /// The seal entry's index: the end of the shard's sequence-number range.
    public var sealIndex: UInt64?
    /// The nodes holding the shard's replicas, preferred leader first. nil only on a single node's catalog from
    /// before placement (that node holds it), or on a cluster's catalog written by a build that created shards
    /// before the founders were members: `healUnplacedShards` places those.
    public var replicas: [UInt64]?
    /// Set while the shard's group moves to `replicas` (a member was removed or added): the nodes that leave
    /// it, which keep their copies until the move is done. nil when the group's membership is `replicas`.
    public var leaving: [UInt64]?
    /// The replicas the shard was created with, once they have changed: the membership a copy that starts from
    /// an empty log assumes until its leader tells it the current one (so a newcomer never thinks it votes).
    public var initialReplicas: [UInt64]?
    /// Set when the shard was placed by `healUnplacedShards`: the node whose copy was kept. Every other node
    /// that held a copy from before (a sole-voter group of its own, diverged) sets it aside and catches up
    /// from this one.
    public var healedFrom: UInt64?

    public var id: ShardID { ShardID(index: index) }
    public var isOpen: Bool { closedMillis == nil }

    public var hashRange: HashRange {
        guard case .valid(let start) = HashKey.parse(startingHashKey),
            case .valid(let end) = HashKey.parse(endingHashKey)
        else { preconditionFailure("shard \(index) holds an invalid hash range \(startingHashKey)…\(endingHashKey)") }
        return HashRange(start: start, end: end)
    }

    /// The smallest sequence number the shard can hold: its epoch with position zero.
    public var startingSequenceNumber: SequenceNumber {
        SequenceNumber(epoch: epoch, index: .zero, slot: 0, arrivalSeconds: 0, shardIndex: index)
    }

    /// A sealed shard's last possible sequence number: its seal index with slot 0xFFFF.
    public var endingSequenceNumber: SequenceNumber? {
        sealIndex.map {
            SequenceNumber(epoch: epoch, index: LogIndex($0), slot: .max, arrivalSeconds: 0, shardIndex: index)
        }
    }
}

/// A stream as the metadata group knows it.
public struct StreamMetadata: Codable, Sendable, Equatable {
    public var name: String
    public var namespace: Namespace
    /// Unique per incarnation, so a re-created stream never accepts an old iterator; names its data folder.
    public var id: String
    public var createdMillis: Int64
    public var status: StreamStatus
    public var mode: StreamMode
    public var retentionHours: Int
    public var shards: [ShardMetadata]
    public var nextShardIndex: UInt32
    public var maxRecordSizeKiB: Int
    public var tags: [String: String]
    /// The KeyId StartStreamEncryption was given (as given: id, ARN or alias); nil once stopped.
    public var encryptionKeyId: String?
    /// Every data key the stream's records were ever sealed with, wrapped; version n is `dataKeys[n - 1]`.
    /// Kept after StopStreamEncryption: the entries sealed under them stay readable.
    public var dataKeys: [WrappedDataKey]?
    /// Shard-level metrics enabled by EnableEnhancedMonitoring (nil: none).
    public var enhancedMetrics: [String]?
    /// The resource policy attached with PutResourcePolicy.
    public var policy: String?
    /// Enhanced fan-out consumers registered on this stream.
    public var consumers: [ConsumerMetadata]?
    public var warmThroughputMiBps: Int?
    /// When UpdateStreamMode last switched the mode: at most two switches in 24 hours, as on AWS.
    public var modeSwitchesMillis: [Int64]?

    public var arn: String { namespace.streamARN(name) }
    /// The data key version new records are sealed with; nil while records are stored in the clear.
    public var sealingVersion: UInt32? {
        guard encryptionKeyId != nil, let count = dataKeys?.count, count > 0 else { return nil }
        return UInt32(count)
    }
    public var openShards: [ShardMetadata] { shards.filter(\.isOpen) }

    public func shard(_ id: ShardID) -> ShardMetadata? { shards.first { $0.index == id.index } }

    /// The open shard whose range holds `key`; open shards tile the hash space.
    public func openShard(for key: HashKey) -> ShardMetadata? {
        shards.first { $0.isOpen && $0.hashRange.contains(key) }
    }
}

/// An enhanced fan-out consumer of a stream.
public struct ConsumerMetadata: Codable, Sendable, Equatable {
    public var name: String
    /// Epoch seconds of registration; part of the ARN, so a re-registered name gets a new ARN.
    public var createdSeconds: Int64
    public var tags: [String: String]
    public var policy: String?

    public init(name: String, createdSeconds: Int64, tags: [String: String], policy: String?) {
        self.name = name
        self.createdSeconds = createdSeconds
        self.tags = tags
        self.policy = policy
    }

    public func arn(streamARN: String) -> String { "\(streamARN)/consumer/\(name):\(createdSeconds)" }
}
