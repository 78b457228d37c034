/// A Raft term. Terms only grow; a message from an older term is stale (Raft §5.1).
public struct Term: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static let zero = Term(0)
    public static func < (lhs: Term, rhs: Term) -> Bool { lhs.rawValue < rhs.rawValue }
    public var next: Term { Term(rawValue + 1) }
    public var description: String { String(rawValue) }
}

/// A position in a replicated log. Index 0 means "before the first entry"; real entries start at 1.
public struct LogIndex: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible, Strideable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static let zero = LogIndex(0)
    public static func < (lhs: LogIndex, rhs: LogIndex) -> Bool { lhs.rawValue < rhs.rawValue }
    public var next: LogIndex { LogIndex(rawValue + 1) }
    public var previous: LogIndex { LogIndex(rawValue == 0 ? 0 : rawValue - 1) }
    // Wrapping two's-complement arithmetic: an index from a peer or the disk may exceed Int64.max, and
    // Strideable conformance routes `==` of containing types through these, so they must never trap.
    public func advanced(by n: Int64) -> LogIndex { LogIndex(rawValue &+ UInt64(bitPattern: n)) }
    public func distance(to other: LogIndex) -> Int64 { Int64(bitPattern: other.rawValue &- rawValue) }
    public var description: String { String(rawValue) }
}

/// A cluster member's stable identity, given by `--id`.
public struct NodeID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }
    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// An availability-zone label such as `az-a`.
public struct Zone: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ value: String) { self.rawValue = value }
    public var description: String { rawValue }
}
