import RillModel

/// A file's identity on disk: kept across renames, new for a copy.
public struct FileIdentity: Hashable, Sendable, Codable, CustomStringConvertible {
    public var device: UInt64
    public var inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    public var description: String { "\(device):\(inode)" }
}

/// What the shell saw of one file beside the flow's pattern in one poll.
public struct ObservedFile: Sendable, Equatable {
    public var path: String
    public var identity: FileIdentity
    public var size: Int64
    public var modifiedNanos: Int64
    /// The name matches the flow's `filePattern`; other files are only looked at as rotated copies.
    public var matchesPattern: Bool
    /// The file's first bytes, up to `FileFollower.headBytes`.
    public var head: [UInt8]

    public init(
        path: String,
        identity: FileIdentity,
        size: Int64,
        modifiedNanos: Int64,
        matchesPattern: Bool,
        head: [UInt8]
    ) {
        self.path = path
        self.identity = identity
        self.size = size
        self.modifiedNanos = modifiedNanos
        self.matchesPattern = matchesPattern
        self.head = head
    }
}

/// One generation of a followed file: its identity, its idempotent-producer id, and how far its records are
/// acknowledged. A copytruncate starts a new generation of the same inode; the copy carries on the old one.
///
/// Checkpointed as JSON (everything but the read position, which restarts at the acknowledged one):
/// `{"producerID":"rill-agent-…","identity":{"device":2049,"inode":1234},"path":"/var/log/app.log",
/// "headLength":256,"headHash":"<hex SHA-256 of the first headLength bytes>","ackedOffset":4096,"ackedLine":97,
/// "endOffset":null}`
public struct FollowedFile: Sendable, Equatable, Codable {
    /// The `x-rill-producer-id` of this generation's records; its lines are numbered from 0 as sequences.
    public var producerID: String
    public var identity: FileIdentity
    /// Where it was last seen.
    public var path: String
    /// The first `headLength` bytes hash to `headHash`: a file that no longer starts so was truncated and
    /// rewritten, and a different file that does is a copy of this one.
    public var headLength: Int
    public var headHash: String
    /// Every record before this byte offset has been acknowledged by the stream (or failed for good).
    public var ackedOffset: Int64
    /// The sequence (line number) of the first record at `ackedOffset`.
    public var ackedLine: UInt64
    /// Set once the file was rotated away: nothing is appended after this offset; read to it, then retire.
    public var endOffset: Int64?
    /// The next byte to read; records between `ackedOffset` and here are on their way.
    public var readOffset: Int64
    public var readLine: UInt64

    enum CodingKeys: String, CodingKey {
        case producerID, identity, path, headLength, headHash, ackedOffset, ackedLine, endOffset
    }

    public init(producerID: String, identity: FileIdentity, path: String, head: [UInt8], offset: Int64) {
        self.producerID = producerID
        self.identity = identity
        self.path = path
        self.headLength = min(head.count, FileFollower.headBytes)
        self.headHash = Self.hash(head.prefix(headLength))
        self.ackedOffset = offset
        self.ackedLine = 0
        self.readOffset = offset
        self.readLine = 0
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        producerID = try container.decode(String.self, forKey: .producerID)
        identity = try container.decode(FileIdentity.self, forKey: .identity)
        path = try container.decode(String.self, forKey: .path)
        headLength = try container.decode(Int.self, forKey: .headLength)
        headHash = try container.decode(String.self, forKey: .headHash)
        ackedOffset = try container.decode(Int64.self, forKey: .ackedOffset)
        ackedLine = try container.decode(UInt64.self, forKey: .ackedLine)
        endOffset = try container.decodeIfPresent(Int64.self, forKey: .endOffset)
        readOffset = ackedOffset
        readLine = ackedLine
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(producerID, forKey: .producerID)
        try container.encode(identity, forKey: .identity)
        try container.encode(path, forKey: .path)
        try container.encode(headLength, forKey: .headLength)
        try container.encode(headHash, forKey: .headHash)
        try container.encode(ackedOffset, forKey: .ackedOffset)
        try container.encode(ackedLine, forKey: .ackedLine)
        try container.encode(endOffset, forKey: .endOffset)
    }

    /// The part a checkpoint keeps: equal checkpoints need no new write.
    public var persisted: FollowedFile {
        var copy = self
        copy.readOffset = ackedOffset
        copy.readLine = ackedLine
        return copy
    }

    /// Whether `head` (a file's first bytes) starts with this generation's fingerprinted head.
    func headMatches(_ head: [UInt8]) -> Bool {
        headLength == 0 || (head.count >= headLength && Self.hash(head.prefix(headLength)) == headHash)
    }

    /// Fingerprints more of the head once the file has grown (called only after `headMatches`).
    mutating func extendHead(_ head: [UInt8]) {
        let length = min(head.count, FileFollower.headBytes)
        guard length > headLength else { return }
        headLength = length
        headHash = Self.hash(head.prefix(length))
    }

    static func hash(_ bytes: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        for byte in SHA256.hash(Array(bytes)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
