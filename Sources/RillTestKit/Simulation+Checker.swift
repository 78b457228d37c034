import RillModel
import RillRaft

extension Simulation {
    /// The safety properties of Raft (Figure 3) plus the client's view, checked after every Ready.
    public struct Checker: Sendable {
        /// Election Safety: the one leader of each term.
        private var leaders: [Term: NodeID] = [:]
        /// Log Matching, checked inductively: if every (index, term) pair names one entry with one previous term
        /// wherever it appears, then two logs that share a pair share everything before it.
        private var entriesByPosition: [Position: (entry: LogEntry, previousTerm: Term)] = [:]
        /// Every entry some node reported committed, with the lowest term in which it was seen committed.
        private var committed: [LogIndex: (entry: LogEntry, term: Term)] = [:]
        /// State Machine Safety: the entry applied at each index.
        private var applied: [LogIndex: LogEntry] = [:]
        /// Entries acknowledged to a client: they must never be lost or changed.
        public private(set) var acknowledged: [LogIndex: LogEntry] = [:]

        public var electionCount: Int { leaders.count }
        public var highestCommitted: LogIndex { committed.keys.max() ?? .zero }

        struct Position: Hashable {
            var index: LogIndex
            var term: Term
        }

        public init() {}

        /// A node became leader of `term`; it must be the only one, and hold every entry committed before.
        mutating func leaderElected(_ node: Raft.Core) throws(CheckFailure) {
            if let other = leaders[node.term], other != node.id {
                throw CheckFailure("election safety", "nodes \(other) and \(node.id) both lead term \(node.term)")
            }
            leaders[node.term] = node.id
            // Leader Completeness (Raft §5.4): entries committed in earlier terms are in the new leader's log.
            // Sorted, so a failing seed reports the same entry on every replay (dictionaries hash with a
            // per-process seed).
            for index in committed.keys.sorted() {
                guard let record = committed[index], record.term < node.term else { continue }
                try expectHolds(node, record.entry, property: "leader completeness")
            }
            for index in acknowledged.keys.sorted() {
                guard let entry = acknowledged[index] else { continue }
                try expectHolds(node, entry, property: "acknowledged entry kept by later leaders")
            }
        }

        private func expectHolds(_ node: Raft.Core, _ entry: LogEntry, property: String) throws(CheckFailure) {
            if entry.index <= node.log.snapshotIndex { return }
            guard let held = node.log.entry(at: entry.index), held == entry else {
                throw CheckFailure(
                    property,
                    "leader \(node.id) of term \(node.term) lacks \(entry.term)/\(entry.index) "
                        + "(has \(node.log.entry(at: entry.index).map { "\($0.term)/\($0.index)" } ?? "nothing"))"
                )
            }
        }

        /// `entries` were appended to `node`'s log (as handed out in a Ready).
        mutating func appended(_ entries: [LogEntry], on node: Raft.Core) throws(CheckFailure) {
            var previousTerm = entries.first.flatMap { node.log.term(at: $0.index.previous) } ?? .zero
            for entry in entries {
                let position = Position(index: entry.index, term: entry.term)
                if let known = entriesByPosition[position] {
                    guard known.entry == entry, known.previousTerm == previousTerm else {
                        throw CheckFailure(
                            "log matching",
                            "node \(node.id) holds a different \(entry.term)/\(entry.index) "
                                + "(previous term \(previousTerm) vs \(known.previousTerm))"
                        )
                    }
                } else {
                    entriesByPosition[position] = (entry, previousTerm)
                }
                previousTerm = entry.term
            }
        }

        /// `node` reports `index` committed.
        mutating func committed(
            through index: LogIndex,
            after previous: LogIndex,
            on node: Raft.Core
        )
            throws(CheckFailure)
        {
            var cursor = max(previous, node.log.snapshotIndex).next
            while cursor <= index {
                guard let entry = node.log.entry(at: cursor) else {
                    throw CheckFailure("commit", "node \(node.id) commits \(cursor) beyond its log")
                }
                if let known = committed[cursor] {
                    guard known.entry == entry else {
                        throw CheckFailure(
                            "committed entry changed",
                            "node \(node.id) commits \(entry.term)/\(cursor) where \(known.entry.term)/\(cursor) was"
                        )
                    }
                    if node.term < known.term { committed[cursor] = (entry, node.term) }
                } else {
                    committed[cursor] = (entry, node.term)
                }
                cursor = cursor.next
            }
        }

        /// `node` applied `entry`.
        mutating func applied(_ entry: LogEntry, on node: NodeID) throws(CheckFailure) {
            if let known = applied[entry.index] {
                guard known == entry else {
                    throw CheckFailure(
                        "state machine safety",
                        "node \(node) applied \(entry.term)/\(entry.index), another applied \(known.term)/\(known.index)"
                    )
                }
            } else {
                applied[entry.index] = entry
            }
        }

        /// The entry some node applied at `index`.
        func appliedEntry(at index: LogIndex) -> LogEntry? { applied[index] }

        /// The client was told `entry` is committed.
        mutating func acknowledge(_ entry: LogEntry) throws(CheckFailure) {
            if let known = acknowledged[entry.index], known != entry {
                throw CheckFailure("acknowledged entry changed", "two acknowledgements at \(entry.index)")
            }
            acknowledged[entry.index] = entry
        }
    }

    /// A failed check, before the world adds seed and tick.
    struct CheckFailure: Error {
        var property: String
        var detail: String
        init(_ property: String, _ detail: String) {
            self.property = property
            self.detail = detail
        }
    }
}
