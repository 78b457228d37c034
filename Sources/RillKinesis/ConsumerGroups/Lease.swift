/// One shard's lease in a consumer group: who processes the shard, until when, and how far it got.
///
/// Leases are replicated cluster state, so every field changes only through `LeaseTable.apply`, with the
/// time carried in the command (the proposer's clock), never read where the command applies.
public struct Lease: Sendable, Equatable, Codable {
    public var shardID: String
    /// The shards this one was split or merged from; it may be leased once each of them is finished.
    public var parents: [String]
    public var owner: String?
    /// Raised on every change of owner. A renewal or checkpoint carrying an older token comes from a worker
    /// that lost the lease and is refused, so a paused worker cannot overwrite its successor's progress.
    public var token: UInt64
    /// Milliseconds since the epoch; an owned lease past this is free for anyone to take.
    public var expiresAtMillis: Int64
    public var checkpoint: Checkpoint

    public init(shardID: String, parents: [String], checkpoint: Checkpoint) {
        self.shardID = shardID
        self.parents = parents
        self.owner = nil
        self.token = 0
        self.expiresAtMillis = 0
        self.checkpoint = checkpoint
    }

    public func isHeld(atMillis now: Int64) -> Bool { owner != nil && now < expiresAtMillis }
}

/// Where a consumer group stands in a shard, as the KCL records it.
public enum Checkpoint: Sendable, Equatable, Codable, Comparable {
    /// Not started: begin at the group's initial position (TRIM_HORIZON, LATEST or AT_TIMESTAMP).
    case initial
    /// Every record up to and including this one is processed. The sub-sequence number counts records inside a
    /// KPL aggregate (0 for plain records).
    case at(sequenceNumber: String, subSequence: UInt64)
    /// The shard is closed and every record in it is processed; its children may start.
    case shardEnd

    public static func < (lhs: Checkpoint, rhs: Checkpoint) -> Bool {
        switch (lhs, rhs) {
        case (.initial, .initial), (.shardEnd, _): false
        case (.initial, _), (_, .shardEnd): true
        case (.at, .initial): false
        case (.at(let a, let x), .at(let b, let y)):
            // Sequence numbers are decimal strings of up to 128 bits: compare by length, then digits.
            a.count != b.count ? a.count < b.count : (a != b ? a < b : x < y)
        }
    }
}
