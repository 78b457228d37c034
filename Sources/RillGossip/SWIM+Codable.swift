import RillModel

// Codable shapes for debugging endpoints and tests; peers exchange the byte codec (`SWIM+Wire.swift`).
// Written by hand because RillModel's identifiers are not Codable: ids, terms and incarnations encode as
// numbers, zones and roles as strings.

extension SWIM.Role: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let role = Self.allCases.first(where: { $0.description == name }) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown role \(name)")
        }
        self = role
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension SWIM.LeadershipHint: Codable {
    /// A shard's hint has `stream` and `shard`; the metadata group's has neither.
    enum CodingKeys: String, CodingKey { case stream, shard, term, leader }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let group: RaftGroupID
        if let stream = try container.decodeIfPresent(String.self, forKey: .stream) {
            group = .shard(streamID: stream, shard: ShardID(index: try container.decode(UInt32.self, forKey: .shard)))
        } else {
            group = .meta
        }
        self.init(
            group: group,
            term: Term(try container.decode(UInt64.self, forKey: .term)),
            leader: NodeID(try container.decode(UInt64.self, forKey: .leader))
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if case .shard(let stream, let shard) = group {
            try container.encode(stream, forKey: .stream)
            try container.encode(shard.index, forKey: .shard)
        }
        try container.encode(term.rawValue, forKey: .term)
        try container.encode(leader.rawValue, forKey: .leader)
    }
}

extension SWIM.Status: Codable {
    enum CodingKeys: String, CodingKey { case state, since, confirmations }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let state = try container.decode(String.self, forKey: .state)
        switch state {
        case "alive": self = .alive
        case "suspect":
            let since = SWIM.Tick(try container.decode(UInt64.self, forKey: .since))
            let confirmations = try container.decode([UInt64].self, forKey: .confirmations)
            self = .suspect(since: since, confirmations: Set(confirmations.map { NodeID($0) }))
        case "dead": self = .dead
        case "left": self = .left
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .state,
                in: container,
                debugDescription: "bad state \(state)"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .alive: try container.encode("alive", forKey: .state)
        case .suspect(let since, let confirmations):
            try container.encode("suspect", forKey: .state)
            try container.encode(since.rawValue, forKey: .since)
            try container.encode(confirmations.map(\.rawValue).sorted(), forKey: .confirmations)
        case .dead: try container.encode("dead", forKey: .state)
        case .left: try container.encode("left", forKey: .state)
        }
    }
}

extension SWIM.Member: Codable {
    enum CodingKeys: String, CodingKey {
        case id, zone, role, apiAddress, peerAddress, incarnation, status, hintsVersion, hints
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: NodeID(try container.decode(UInt64.self, forKey: .id)),
            zone: Zone(try container.decode(String.self, forKey: .zone)),
            role: try container.decode(SWIM.Role.self, forKey: .role),
            apiAddress: try container.decode(String.self, forKey: .apiAddress),
            peerAddress: try container.decode(String.self, forKey: .peerAddress),
            incarnation: try container.decode(UInt64.self, forKey: .incarnation),
            status: try container.decode(SWIM.Status.self, forKey: .status),
            hintsVersion: try container.decode(UInt64.self, forKey: .hintsVersion),
            hints: try container.decode([SWIM.LeadershipHint].self, forKey: .hints)
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.rawValue, forKey: .id)
        try container.encode(zone.rawValue, forKey: .zone)
        try container.encode(role, forKey: .role)
        try container.encode(apiAddress, forKey: .apiAddress)
        try container.encode(peerAddress, forKey: .peerAddress)
        try container.encode(incarnation, forKey: .incarnation)
        try container.encode(status, forKey: .status)
        try container.encode(hintsVersion, forKey: .hintsVersion)
        try container.encode(hints, forKey: .hints)
    }
}

extension SWIM.Message: Codable {
    enum CodingKeys: String, CodingKey {
        case kind, sequence, target, targetAddress, incarnation, gossip, isReply
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(String.self, forKey: .kind)
        func sequence() throws -> UInt64 { try container.decode(UInt64.self, forKey: .sequence) }
        func target() throws -> NodeID { NodeID(try container.decode(UInt64.self, forKey: .target)) }
        func gossip() throws -> [SWIM.Member] { try container.decode([SWIM.Member].self, forKey: .gossip) }
        switch kind {
        case "ping":
            self = .ping(sequence: try sequence(), gossip: try gossip())
        case "pingRequest":
            self = .pingRequest(
                sequence: try sequence(),
                target: try target(),
                targetAddress: try container.decode(String.self, forKey: .targetAddress),
                gossip: try gossip()
            )
        case "ack":
            self = .ack(
                sequence: try sequence(),
                target: try target(),
                incarnation: try container.decode(UInt64.self, forKey: .incarnation),
                gossip: try gossip()
            )
        case "nack":
            self = .nack(sequence: try sequence(), target: try target(), gossip: try gossip())
        case "pushPull":
            self = .pushPull(members: try gossip(), isReply: try container.decode(Bool.self, forKey: .isReply))
        case "gossip":
            self = .gossip(try gossip())
        default:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "bad kind \(kind)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .ping(let sequence, _):
            try container.encode("ping", forKey: .kind)
            try container.encode(sequence, forKey: .sequence)
        case .pingRequest(let sequence, let target, let targetAddress, _):
            try container.encode("pingRequest", forKey: .kind)
            try container.encode(sequence, forKey: .sequence)
            try container.encode(target.rawValue, forKey: .target)
            try container.encode(targetAddress, forKey: .targetAddress)
        case .ack(let sequence, let target, let incarnation, _):
            try container.encode("ack", forKey: .kind)
            try container.encode(sequence, forKey: .sequence)
            try container.encode(target.rawValue, forKey: .target)
            try container.encode(incarnation, forKey: .incarnation)
        case .nack(let sequence, let target, _):
            try container.encode("nack", forKey: .kind)
            try container.encode(sequence, forKey: .sequence)
            try container.encode(target.rawValue, forKey: .target)
        case .pushPull(_, let isReply):
            try container.encode("pushPull", forKey: .kind)
            try container.encode(isReply, forKey: .isReply)
        case .gossip:
            try container.encode("gossip", forKey: .kind)
        }
        try container.encode(members, forKey: .gossip)
    }
}
