/// The start or end of an injected fault.
public struct FaultEvent: Sendable, Equatable, Codable {
    /// Milliseconds since the run started.
    public var time: Double
    public var kind: FaultKind
    /// What the fault hit: a node name, or a description such as "node-1,node-2|node-3" for a partition.
    public var target: String
    public var phase: FaultPhase
    public var detail: String?

    public init(time: Double, kind: FaultKind, target: String, phase: FaultPhase, detail: String? = nil) {
        self.time = time
        self.kind = kind
        self.target = target
        self.phase = phase
        self.detail = detail
    }
}

/// Whether a fault event opens or closes its window.
public enum FaultPhase: String, Sendable, Codable {
    case start, end
}

/// A family of faults; open-ended, so a new nemesis needs no change here.
///
/// `CodingKeyRepresentable` lets a verdict's count per kind encode as a JSON object rather than an array.
public struct FaultKind: RawRepresentable, Hashable, Comparable, Sendable, Codable, CodingKeyRepresentable,
    CustomStringConvertible
{
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A process killed with SIGKILL, restarted at the end.
    public static let kill = FaultKind(rawValue: "kill")
    /// A process stopped with SIGSTOP, resumed at the end.
    public static let pause = FaultKind(rawValue: "pause")
    /// Links cut between groups of nodes.
    public static let partition = FaultKind(rawValue: "partition")
    /// A disk that fails, fills or loses unsynced writes.
    public static let disk = FaultKind(rawValue: "disk")
    /// A node's clock stepped or skewed.
    public static let clock = FaultKind(rawValue: "clock")

    public var description: String { rawValue }
    public static func < (lhs: FaultKind, rhs: FaultKind) -> Bool { lhs.rawValue < rhs.rawValue }

    public var codingKey: any CodingKey { Key(stringValue: rawValue) }
    public init?<T: CodingKey>(codingKey: T) { self.rawValue = codingKey.stringValue }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        self.rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
