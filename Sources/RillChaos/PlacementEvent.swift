/// One node's shard groups with their voters, its view of the members and the placement violations it
/// reports itself, from `/admin/status` after healing: the material of the placement check
/// (`Checker.checkPlacement`).
///
/// The run records one per node from the same poll, the last one it made (after the check held, or when its
/// 60 s ran out), so a history can be judged again offline.
public struct PlacementEvent: Sendable, Equatable, Codable {
    /// Milliseconds since the run started.
    public var time: Double
    /// `node-N`, as fault and checksums events name it.
    public var node: String
    /// The node's id, as voter lists name it.
    public var id: Int
    public var zone: String?
    /// The cluster's members with their zones, as this node knows them.
    public var members: [PlacementMember]
    /// Every shard group the node holds (the metadata group left out).
    public var groups: [PlacementGroup]
    /// What the node's own placement audit reports (`placementViolations`).
    public var violations: [PlacementViolation]

    public init(
        time: Double,
        node: String,
        id: Int,
        zone: String? = nil,
        members: [PlacementMember],
        groups: [PlacementGroup],
        violations: [PlacementViolation] = []
    ) {
        self.time = time
        self.node = node
        self.id = id
        self.zone = zone
        self.members = members
        self.groups = groups
        self.violations = violations
    }
}

/// A cluster member and its zone.
public struct PlacementMember: Sendable, Equatable, Codable {
    public var id: Int
    public var zone: String

    public init(id: Int, zone: String) {
        self.id = id
        self.zone = zone
    }
}

/// One shard group as a node holds it: the configuration in that node's log.
public struct PlacementGroup: Sendable, Equatable, Codable {
    /// The stream's name (for people); groups are told apart by `streamID`, since a deleted stream's name
    /// may come back with a new id.
    public var stream: String
    public var streamID: String
    public var shard: String
    public var voters: [Int]
    public var learners: [Int]

    public init(stream: String, streamID: String, shard: String, voters: [Int], learners: [Int] = []) {
        self.stream = stream
        self.streamID = streamID
        self.shard = shard
        self.voters = voters.sorted()
        self.learners = learners.sorted()
    }

    enum CodingKeys: String, CodingKey {
        case stream, voters, learners
        case streamID = "streamId"
        case shard = "shardId"
    }
}

/// One violation a node's own placement audit reports.
public struct PlacementViolation: Sendable, Equatable, Codable {
    public var stream: String
    public var streamID: String?
    public var shard: String?
    /// The node whose groups show it, when the audit names one.
    public var node: Int?
    public var problem: String

    public init(stream: String, streamID: String? = nil, shard: String? = nil, node: Int? = nil, problem: String) {
        self.stream = stream
        self.streamID = streamID
        self.shard = shard
        self.node = node
        self.problem = problem
    }

    enum CodingKeys: String, CodingKey {
        case stream, node, problem
        case streamID = "streamId"
        case shard = "shardId"
    }
}
