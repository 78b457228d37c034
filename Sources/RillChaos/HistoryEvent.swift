/// One line of a history: an operation a client did, a fault the nemesis injected, a replica's checksums, or a
/// node's shard groups and voters after healing, or the stream's shard lineage at the final read.
public enum HistoryEvent: Sendable, Equatable {
    case write(WriteEvent)
    case read(ReadEvent)
    case fault(FaultEvent)
    case checksums(ChecksumsEvent)
    case placement(PlacementEvent)
    case lineage(LineageEvent)

    /// Milliseconds since the run started.
    public var time: Double {
        switch self {
        case .write(let event): event.time
        case .read(let event): event.time
        case .fault(let event): event.time
        case .checksums(let event): event.time
        case .placement(let event): event.time
        case .lineage(let event): event.time
        }
    }

    /// The value of the line's `"type"` field.
    public var type: HistoryEventType {
        switch self {
        case .write: .write
        case .read: .read
        case .fault: .fault
        case .checksums: .checksums
        case .placement: .placement
        case .lineage: .lineage
        }
    }
}

/// The `"type"` tag that says which event a history line holds.
public enum HistoryEventType: String, Sendable, Codable, CaseIterable {
    case write, read, fault, checksums, placement, lineage
}

// MARK: - Codable

/// Each event is a flat JSON object: its own fields beside the `"type"` tag.
extension HistoryEvent: Codable {
    private enum TagKey: String, CodingKey {
        case type
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: TagKey.self)
        let tag = try container.decode(String.self, forKey: .type)
        switch HistoryEventType(rawValue: tag) {
        case .write: self = .write(try WriteEvent(from: decoder))
        case .read: self = .read(try ReadEvent(from: decoder))
        case .fault: self = .fault(try FaultEvent(from: decoder))
        case .checksums: self = .checksums(try ChecksumsEvent(from: decoder))
        case .placement: self = .placement(try PlacementEvent(from: decoder))
        case .lineage: self = .lineage(try LineageEvent(from: decoder))
        case nil:
            throw DecodingError.dataCorruptedError(
                forKey: .type,
                in: container,
                debugDescription: "unknown event type \"\(tag.prefix(40))\""
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TagKey.self)
        try container.encode(type, forKey: .type)
        switch self {
        case .write(let event): try event.encode(to: encoder)
        case .read(let event): try event.encode(to: encoder)
        case .fault(let event): try event.encode(to: encoder)
        case .checksums(let event): try event.encode(to: encoder)
        case .placement(let event): try event.encode(to: encoder)
        case .lineage(let event): try event.encode(to: encoder)
        }
    }
}
