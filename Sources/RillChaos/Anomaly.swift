/// The occurrences each check reports, one type per anomaly.
public enum Anomaly {
    /// An acknowledged write found in no final read.
    public struct Lost: Sendable, Equatable, Codable, CustomStringConvertible {
        public var id: String
        public var acknowledged: RecordPosition
        public var acknowledgedAt: Double
        /// Whether a consumer had read it before it disappeared.
        public var wasRead: Bool

        public var description: String {
            "\(id) acknowledged at \(acknowledged) (t=\(Milliseconds(acknowledgedAt)))"
                + (wasRead ? ", read, then gone" : ", never read")
        }
    }

    /// A record read but not acknowledged (indeterminate, or never recorded) that the final read lacks.
    public struct Vanished: Sendable, Equatable, Codable, CustomStringConvertible {
        public var id: String
        public var readAt: [RecordPosition]

        public var description: String { "\(id) read at \(list(readAt)), missing from the final read" }
    }

    /// An id the final reads hold more than once.
    public struct Duplicate: Sendable, Equatable, Codable, CustomStringConvertible {
        public var id: String
        public var positions: [RecordPosition]
        /// The idempotent-producer id and number the record was sent under: the shard should have stored it once.
        public var producer: String?
        public var producerSequence: UInt64?
        /// How many times the writer sent it (nil: once, by a writer that never retries).
        public var attempts: Int?

        public init(
            id: String,
            positions: [RecordPosition],
            producer: String? = nil,
            producerSequence: UInt64? = nil,
            attempts: Int? = nil
        ) {
            self.id = id
            self.positions = positions
            self.producer = producer
            self.producerSequence = producerSequence
            self.attempts = attempts
        }

        public var description: String {
            var text = "\(id) \(positions.count)× at \(list(positions))"
            if let producer { text += " (producer \(producer) #\(producerSequence.map(String.init) ?? "?"))" }
            if let attempts { text += ", sent \(attempts)×" }
            return text
        }
    }

    /// Two neighbours in a shard's final read whose sequence numbers do not strictly increase.
    public struct Reordering: Sendable, Equatable, Codable, CustomStringConvertible {
        public var shard: String
        /// The 0-based offset of `second` in the shard's final read.
        public var offset: Int
        public var first: ReadRecord
        public var second: ReadRecord

        public var description: String {
            "\(shard) #\(offset): \(second.id)@\(second.sequence) after \(first.id)@\(first.sequence)"
        }
    }

    /// Reads that disagree about where a record is.
    public enum SequenceConflict: Sendable, Equatable, Codable, CustomStringConvertible {
        /// One id read at positions that are not all its final positions (a duplicate alone is not a conflict).
        case idAtSeveralPositions(id: String, positions: [RecordPosition])
        /// Different ids read or acknowledged at one position.
        case severalIDsAtOnePosition(position: RecordPosition, ids: [String])

        public var description: String {
            switch self {
            case .idAtSeveralPositions(let id, let positions): "\(id) read at \(list(positions))"
            case .severalIDsAtOnePosition(let position, let ids): "\(position) holds \(ids.joined(separator: ", "))"
            }
        }
    }

    /// An acknowledged write read somewhere, but never where the acknowledgement said.
    public struct AcknowledgementMismatch: Sendable, Equatable, Codable, CustomStringConvertible {
        public var id: String
        public var acknowledged: RecordPosition
        public var readAt: [RecordPosition]

        public var description: String { "\(id) acknowledged at \(acknowledged), read at \(list(readAt))" }
    }

    /// Records the final read holds between two records one consumer read one after the other (across a page
    /// boundary or within a page), or between an iterator's starting sequence number and its first record.
    public struct SkippedRange: Sendable, Equatable, Codable, CustomStringConvertible {
        public var process: Int
        public var shard: String
        /// When the consumer received the record after the gap.
        public var time: Double
        /// The sequence number the gap starts after: the record read before it, or the iterator's start.
        public var after: DecimalSequenceNumber
        /// The id read at `after`; nil when `after` is where an iterator started.
        public var afterID: String?
        public var before: ReadRecord
        public var missingCount: Int
        /// The first few of the records jumped over.
        public var missing: [ReadRecord]

        public var description: String {
            "process \(process) on \(shard) read \(before.id) right after \(afterID ?? "iterator start \(after)"), "
                + "skipping \(missingCount) (\(missing.map(\.id).joined(separator: ", "))"
                + (missingCount > missing.count ? ", …)" : ")")
        }
    }

    /// A write the server definitely refused that a read returned anyway.
    public struct FailedWriteRead: Sendable, Equatable, Codable, CustomStringConvertible {
        public var id: String
        public var error: String?
        public var readAt: [RecordPosition]

        public var description: String { "\(id) failed with \(error ?? "an error"), read at \(list(readAt))" }
    }

    /// A read returned a record no write event mentions.
    public struct Unexpected: Sendable, Equatable, Codable, CustomStringConvertible {
        public var id: String
        public var readAt: [RecordPosition]

        public var description: String { "\(id) read at \(list(readAt)) was never written" }
    }

    /// Replicas that applied the same prefix of a shard log but hold different logs.
    public struct Divergence: Sendable, Equatable, Codable, CustomStringConvertible {
        public var shard: String
        public var applied: UInt64
        public var replicas: [ReplicaChecksum]

        public var description: String {
            "\(shard) at applied \(applied): "
                + replicas.map {
                    "\($0.node) \($0.sha256.prefix(12)) (\($0.records) records"
                        + ($0.voters.map { ", voters \(ids($0))" } ?? "") + ")"
                }.joined(separator: ", ")
        }
    }

    /// Replicas of a shard that applied different amounts of its log: a note, not a violation.
    public struct Lag: Sendable, Equatable, Codable, CustomStringConvertible {
        public var shard: String
        public var replicas: [ReplicaChecksum]

        public var description: String {
            "\(shard): " + replicas.map { "\($0.node) applied \($0.applied)" }.joined(separator: ", ")
        }
    }

    /// One node's checksum of one shard.
    public struct ReplicaChecksum: Sendable, Equatable, Codable {
        public var node: String
        public var applied: UInt64
        public var sha256: String
        public var records: Int
        /// The voters of the group in this node's configuration when the checksum was taken, if known.
        public var voters: [Int]?

        public init(node: String, applied: UInt64, sha256: String, records: Int, voters: [Int]? = nil) {
            self.node = node
            self.applied = applied
            self.sha256 = sha256
            self.records = records
            self.voters = voters
        }
    }

    /// A shard group whose placement breaks a rule after healing (`Checker.checkPlacement`).
    public struct Misplacement: Sendable, Equatable, Codable, CustomStringConvertible {
        /// The stream's name.
        public var stream: String
        public var shard: String?
        /// The node whose report shows it; nil when the problem is between nodes (voters that differ).
        public var node: String?
        /// The voters as the reporting node holds them (for voters that differ: each node's, in `problem`).
        public var voters: [Int]
        public var problem: String

        public var description: String {
            "\(stream)\(shard.map { " " + $0 } ?? "")" + (node.map { " on \($0)" } ?? "")
                + (voters.isEmpty ? "" : " (voters \(ids(voters)))") + ": \(problem)"
        }
    }
}

/// Node ids as `1,2,3`.
func ids(_ nodes: [Int]) -> String {
    nodes.map(String.init).joined(separator: ",")
}

private func list(_ positions: [RecordPosition]) -> String {
    positions.map(\.description).joined(separator: ", ")
}
