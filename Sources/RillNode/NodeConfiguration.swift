import RillKinesis
import RillModel

/// What a node is told at start: who it is, where its data lives, and what it reports in ARNs.
public struct NodeConfiguration: Sendable {
    public var id: NodeID
    public var zone: Zone
    public var dataDirectory: String
    public var accountID: String
    public var defaultRegion: String
    /// Threads that run blocking file work (appends, reads, fsync rounds) off the event loops.
    public var storageThreads: Int
    /// Segment size at which a shard log rolls to a new file.
    public var segmentBytes: Int
    /// Enforce Kinesis's per-shard throughput limits on provisioned streams (off by default, as in the
    /// emulators and for benchmarks).
    public var throughputLimits: Bool
    /// When set, every API request must carry a valid SigV4 signature by one of these keys.
    public var credentials: SigV4Verifier?

    public init(
        id: NodeID, zone: Zone, dataDirectory: String, accountID: String = "000000000000",
        defaultRegion: String = "us-east-1", storageThreads: Int = 4, segmentBytes: Int = 64 << 20,
        throughputLimits: Bool = false, credentials: SigV4Verifier? = nil
    ) {
        self.credentials = credentials
        self.throughputLimits = throughputLimits
        self.id = id
        self.zone = zone
        self.dataDirectory = dataDirectory
        self.accountID = accountID
        self.defaultRegion = defaultRegion
        self.storageThreads = storageThreads
        self.segmentBytes = segmentBytes
    }
}
