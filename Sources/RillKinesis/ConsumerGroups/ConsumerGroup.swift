/// A consumer group: workers that share a stream's shards through leases, with checkpoints, as the KCL's
/// lease table does — kept in the catalog, so it is replicated like every stream.
public struct ConsumerGroup: Sendable, Equatable, Codable {
    public var name: String
    public var streamID: String
    /// Where a shard with no checkpoint starts: TRIM_HORIZON, LATEST or AT_TIMESTAMP (with `startMillis`).
    public var initialPosition: InitialPosition
    public var createdMillis: Int64
    /// How long a lease lasts without renewal (the KCL's failoverTimeMillis): a worker that stops renewing loses
    /// its shards this long after its last renewal. One value for the whole group, so every worker agrees.
    public var failoverMillis: Int64
    public var leases: LeaseTable

    public enum InitialPosition: Sendable, Equatable, Codable {
        case trimHorizon
        case latest
        case atTimestamp(millis: Int64)
    }

    public init(
        name: String,
        streamID: String,
        initialPosition: InitialPosition,
        createdMillis: Int64,
        failoverMillis: Int64 = Self.defaultFailoverMillis
    ) {
        self.name = name
        self.streamID = streamID
        self.initialPosition = initialPosition
        self.createdMillis = createdMillis
        self.failoverMillis = failoverMillis
        self.leases = LeaseTable()
    }

    /// The KCL's default failover time.
    public static let defaultFailoverMillis: Int64 = 10_000
    /// Failover times a group may have: under a second the renewals alone would load the metadata group; over
    /// ten minutes a dead worker's shards would wait too long.
    public static let failoverMillisRange: ClosedRange<Int64> = 1_000...600_000

    /// Group names as Kinesis consumer names are written.
    public static func isValidName(_ name: String) -> Bool {
        (1...128).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "-")
            }
    }
}

/// What the catalog applies for consumer groups.
public enum ConsumerGroupCommand: Sendable, Equatable, Codable {
    case create(
        namespace: Namespace,
        stream: String,
        group: String,
        initialPosition: ConsumerGroup.InitialPosition,
        atMillis: Int64,
        failoverMillis: Int64 = ConsumerGroup.defaultFailoverMillis
    )
    case delete(namespace: Namespace, stream: String, group: String)
    case lease(namespace: Namespace, stream: String, group: String, LeaseCommand)
}
