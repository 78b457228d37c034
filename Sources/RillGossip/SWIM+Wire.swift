import RillModel

extension SWIM {
    /// Why bytes from a peer are not a message. Input from a peer never traps; the shell drops the message.
    public enum WireError: Error, Sendable, Equatable {
        /// The first byte names a codec version we do not speak.
        case unsupportedVersion(UInt8)
        /// A tag byte (`what`) has a value no case uses.
        case unknownTag(what: String, tag: UInt8)
        /// A field runs past the end of the bytes, or a count promises more elements than the bytes can hold.
        case truncated
        /// The message decoded but bytes remain.
        case trailingBytes(Int)
        /// A string field is not valid UTF-8.
        case invalidUTF8
    }
}

/// Wire layout of a SWIM message, version 1. Integers are big-endian; nothing is padded.
///
///     message  := u8 version (1) | u8 kind | body
///       1 ping         u64 sequence | members
///       2 pingRequest  u64 sequence | u64 target | string targetAddress | members
///       3 ack          u64 sequence | u64 target | u64 incarnation | members
///       4 nack         u64 sequence | u64 target | members
///       5 pushPull     u8 isReply (0/1) | members
///       6 gossip       members
///     members  := u32 count | count × member
///     member   := u64 id | string zone | u8 role (1 node, 2 router) | string apiAddress | string peerAddress
///                 | u64 incarnation | status | u64 hintsVersion | u32 count | count × hint
///     status   := u8 1 alive | u8 2 suspect u64 since u32 count count × u64 node (ascending)
///                 | u8 3 dead | u8 4 left
///     hint     := group | u64 term | u64 leader
///     group    := u8 0 meta | u8 1 shard string streamID u32 shardIndex
///     string   := u32 n | n bytes UTF-8
///
/// A message decodes exactly or not at all: unknown versions and tags, counts the remaining bytes cannot
/// hold, invalid UTF-8 and trailing bytes all throw `SWIM.WireError`.
extension SWIM.Message {
    /// The codec version written first in every message.
    public static let wireVersion: UInt8 = 1

    enum Kind: UInt8 {
        case ping = 1
        case pingRequest = 2
        case ack = 3
        case nack = 4
        case pushPull = 5
        case gossip = 6
    }

    /// The message as bytes, version byte first.
    public func encoded() -> [UInt8] {
        var writer = WireWriter()
        writer.u8(Self.wireVersion)
        switch self {
        case .ping(let sequence, let gossip):
            writer.u8(Kind.ping.rawValue)
            writer.u64(sequence)
            writer.members(gossip)
        case .pingRequest(let sequence, let target, let targetAddress, let gossip):
            writer.u8(Kind.pingRequest.rawValue)
            writer.u64(sequence)
            writer.u64(target.rawValue)
            writer.string(targetAddress)
            writer.members(gossip)
        case .ack(let sequence, let target, let incarnation, let gossip):
            writer.u8(Kind.ack.rawValue)
            writer.u64(sequence)
            writer.u64(target.rawValue)
            writer.u64(incarnation)
            writer.members(gossip)
        case .nack(let sequence, let target, let gossip):
            writer.u8(Kind.nack.rawValue)
            writer.u64(sequence)
            writer.u64(target.rawValue)
            writer.members(gossip)
        case .pushPull(let members, let isReply):
            writer.u8(Kind.pushPull.rawValue)
            writer.u8(isReply ? 1 : 0)
            writer.members(members)
        case .gossip(let gossip):
            writer.u8(Kind.gossip.rawValue)
            writer.members(gossip)
        }
        return writer.bytes
    }

    /// Decodes bytes that hold exactly one message (the inverse of `encoded()`).
    public init(decoding bytes: some Collection<UInt8>) throws(SWIM.WireError) {
        var reader = WireReader(Array(bytes))
        let version = try reader.u8()
        guard version == Self.wireVersion else { throw .unsupportedVersion(version) }
        let kindByte = try reader.u8()
        guard let kind = Kind(rawValue: kindByte) else { throw .unknownTag(what: "kind", tag: kindByte) }
        switch kind {
        case .ping:
            let sequence = try reader.u64()
            self = .ping(sequence: sequence, gossip: try reader.members())
        case .pingRequest:
            let sequence = try reader.u64()
            let target = NodeID(try reader.u64())
            let targetAddress = try reader.string()
            self = .pingRequest(
                sequence: sequence,
                target: target,
                targetAddress: targetAddress,
                gossip: try reader.members()
            )
        case .ack:
            let sequence = try reader.u64()
            let target = NodeID(try reader.u64())
            let incarnation = try reader.u64()
            self = .ack(sequence: sequence, target: target, incarnation: incarnation, gossip: try reader.members())
        case .nack:
            let sequence = try reader.u64()
            let target = NodeID(try reader.u64())
            self = .nack(sequence: sequence, target: target, gossip: try reader.members())
        case .pushPull:
            let isReply = try reader.bool(what: "isReply")
            self = .pushPull(members: try reader.members(), isReply: isReply)
        case .gossip:
            self = .gossip(try reader.members())
        }
        guard reader.remaining == 0 else { throw .trailingBytes(reader.remaining) }
    }
}

// MARK: - Fields

struct WireWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    mutating func count(_ value: Int) { u32(UInt32(truncatingIfNeeded: value)) }

    mutating func string(_ value: String) {
        let utf8 = value.utf8
        count(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    mutating func members(_ members: [SWIM.Member]) {
        count(members.count)
        for member in members { self.member(member) }
    }

    mutating func member(_ member: SWIM.Member) {
        u64(member.id.rawValue)
        string(member.zone.rawValue)
        u8(member.role.rawValue)
        string(member.apiAddress)
        string(member.peerAddress)
        u64(member.incarnation)
        switch member.status {
        case .alive:
            u8(1)
        case .suspect(let since, let confirmations):
            u8(2)
            u64(since.rawValue)
            count(confirmations.count)
            for node in confirmations.sorted() { u64(node.rawValue) }
        case .dead:
            u8(3)
        case .left:
            u8(4)
        }
        u64(member.hintsVersion)
        count(member.hints.count)
        for hint in member.hints {
            switch hint.group {
            case .meta:
                u8(0)
            case .shard(let streamID, let shard):
                u8(1)
                string(streamID)
                u32(shard.index)
            }
            u64(hint.term.rawValue)
            u64(hint.leader.rawValue)
        }
    }
}

struct WireReader {
    /// The fewest bytes one element can take, so a hostile count fails before anything is allocated.
    static let minimumMemberSize = 8 + 4 + 1 + 4 + 4 + 8 + 1 + 8 + 4
    static let minimumHintSize = 1 + 8 + 8

    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func u8() throws(SWIM.WireError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u32() throws(SWIM.WireError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated }
        var value: UInt32 = 0
        for index in offset..<offset + 4 { value = value << 8 | UInt32(bytes[index]) }
        offset += 4
        return value
    }

    mutating func u64() throws(SWIM.WireError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated }
        var value: UInt64 = 0
        for index in offset..<offset + 8 { value = value << 8 | UInt64(bytes[index]) }
        offset += 8
        return value
    }

    mutating func bool(what: String) throws(SWIM.WireError) -> Bool {
        let byte = try u8()
        guard byte <= 1 else { throw .unknownTag(what: what, tag: byte) }
        return byte == 1
    }

    /// A count of elements at least `elementSize` bytes each, checked against the bytes left.
    mutating func count(elementSize: Int) throws(SWIM.WireError) -> Int {
        let count = Int(try u32())
        guard count <= remaining / elementSize else { throw .truncated }
        return count
    }

    mutating func string() throws(SWIM.WireError) -> String {
        let length = try count(elementSize: 1)
        let slice = bytes[offset..<offset + length]
        offset += length
        guard let string = String(validating: slice, as: UTF8.self) else { throw .invalidUTF8 }
        return string
    }

    mutating func members() throws(SWIM.WireError) -> [SWIM.Member] {
        let count = try count(elementSize: Self.minimumMemberSize)
        var members: [SWIM.Member] = []
        members.reserveCapacity(count)
        for _ in 0..<count { members.append(try member()) }
        return members
    }

    mutating func member() throws(SWIM.WireError) -> SWIM.Member {
        let id = NodeID(try u64())
        let zone = Zone(try string())
        let roleByte = try u8()
        guard let role = SWIM.Role(rawValue: roleByte) else { throw .unknownTag(what: "role", tag: roleByte) }
        let apiAddress = try string()
        let peerAddress = try string()
        let incarnation = try u64()
        let statusByte = try u8()
        let status: SWIM.Status
        switch statusByte {
        case 1:
            status = .alive
        case 2:
            let since = SWIM.Tick(try u64())
            let count = try count(elementSize: 8)
            var confirmations = Set<NodeID>(minimumCapacity: count)
            for _ in 0..<count { confirmations.insert(NodeID(try u64())) }
            status = .suspect(since: since, confirmations: confirmations)
        case 3:
            status = .dead
        case 4:
            status = .left
        default:
            throw .unknownTag(what: "status", tag: statusByte)
        }
        let hintsVersion = try u64()
        let hintCount = try count(elementSize: Self.minimumHintSize)
        var hints: [SWIM.LeadershipHint] = []
        hints.reserveCapacity(hintCount)
        for _ in 0..<hintCount {
            let groupByte = try u8()
            let group: RaftGroupID
            switch groupByte {
            case 0:
                group = .meta
            case 1:
                let streamID = try string()
                group = .shard(streamID: streamID, shard: ShardID(index: try u32()))
            default:
                throw .unknownTag(what: "group", tag: groupByte)
            }
            let term = Term(try u64())
            let leader = NodeID(try u64())
            hints.append(SWIM.LeadershipHint(group: group, term: term, leader: leader))
        }
        return SWIM.Member(
            id: id,
            zone: zone,
            role: role,
            apiAddress: apiAddress,
            peerAddress: peerAddress,
            incarnation: incarnation,
            status: status,
            hintsVersion: hintsVersion,
            hints: hints
        )
    }
}
