import RillModel

extension Raft {
    /// The core's view of the log: a compacted prefix (`snapshotIndex`, `snapshotTerm`) and the entries after it.
    ///
    /// The core keeps the retained entries in memory, which is what the simulation wants and what a small group
    /// needs. The runtime, whose shard logs live in segments on disk, keeps the same contract — first and last
    /// index, term at an index, a range of entries — so this struct is the one seam to back with a disk log and a
    /// cache later; nothing else in the core touches `entries` directly. What is durable is the shell's business:
    /// the core hands new entries out through `Ready.entries` and learns of their persistence in `advance`.
    public struct RaftLog: Sendable, Equatable {
        /// The last index covered by the snapshot (0 when none); the log starts after it.
        public private(set) var snapshotIndex: LogIndex
        /// The term of the entry at `snapshotIndex`.
        public private(set) var snapshotTerm: Term
        private var storage: [LogEntry]

        /// A log that starts after (`snapshotIndex`, `snapshotTerm`) and holds `entries`, which must follow on.
        public init(snapshotIndex: LogIndex = .zero, snapshotTerm: Term = .zero, entries: [LogEntry] = []) {
            for (offset, entry) in entries.enumerated() {
                precondition(
                    entry.index == snapshotIndex.advanced(by: Int64(offset) + 1),
                    "log entries must be contiguous after \(snapshotIndex); found \(entry.index) at \(offset)")
            }
            self.snapshotIndex = snapshotIndex
            self.snapshotTerm = snapshotTerm
            self.storage = entries
        }

        /// The first retained index (the log start).
        public var firstIndex: LogIndex { snapshotIndex.next }
        /// The last index, or `snapshotIndex` when no entry is retained.
        public var lastIndex: LogIndex { snapshotIndex.advanced(by: Int64(storage.count)) }
        /// The term of the last entry.
        public var lastTerm: Term { storage.last?.term ?? snapshotTerm }

        /// The term at `index`, or nil when `index` is compacted away or beyond the end.
        public func term(at index: LogIndex) -> Term? {
            if index == snapshotIndex { return snapshotTerm }
            guard index > snapshotIndex, index <= lastIndex else { return nil }
            return storage[offset(of: index)].term
        }

        /// Whether the log holds an entry at `index` with `term`.
        public func matches(index: LogIndex, term: Term) -> Bool { self.term(at: index) == term }

        /// The entry at `index`, if retained.
        public func entry(at index: LogIndex) -> LogEntry? {
            guard index > snapshotIndex, index <= lastIndex else { return nil }
            return storage[offset(of: index)]
        }

        /// Up to `maxCount` entries from `index` through `lastIndex`; nil when `index` is compacted away.
        public func entries(from index: LogIndex, through last: LogIndex? = nil, maxCount: Int = .max) -> [LogEntry]? {
            guard index > snapshotIndex else { return nil }
            let end = min(last ?? lastIndex, lastIndex)
            guard index <= end else { return [] }
            let lower = offset(of: index)
            let upper = min(offset(of: end) + 1, lower + min(max(maxCount, 1), storage.count))
            return Array(storage[lower..<upper])
        }

        /// Raft §5.4.1: a candidate's log is at least as up-to-date as ours if its last term is higher, or equal
        /// with an index at least as high.
        public func isUpToDate(lastIndex candidateIndex: LogIndex, lastTerm candidateTerm: Term) -> Bool {
            candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
        }

        /// The last index at or below `index` whose term is at most `term`, with that term: the fast back-off
        /// search of etcd-io/raft. Below the log start it answers (`index`, 0): "unknown, probe lower".
        public func lastIndex(atOrBelow index: LogIndex, withTermAtMost term: Term) -> (index: LogIndex, term: Term) {
            var candidate = min(index, lastIndex)
            while candidate > snapshotIndex {
                if let found = self.term(at: candidate), found <= term { return (candidate, found) }
                candidate = candidate.previous
            }
            if candidate == snapshotIndex, snapshotTerm <= term { return (candidate, snapshotTerm) }
            return (candidate, .zero)
        }

        /// Appends `entries` (contiguous, starting at most one past the end), first dropping any entry at or after
        /// the first new index. Returns the index the log was cut at, if it was.
        @discardableResult
        mutating func append(_ entries: [LogEntry]) -> LogIndex? {
            guard let first = entries.first else { return nil }
            precondition(
                first.index > snapshotIndex && first.index <= lastIndex.next, "append at \(first.index) leaves a gap")
            var cut: LogIndex? = nil
            if first.index <= lastIndex {
                storage.removeSubrange(offset(of: first.index)...)
                cut = first.index
            }
            storage.append(contentsOf: entries)
            return cut
        }

        /// Drops every entry through `index` (which must be retained or the end), keeping its term as the new base.
        mutating func compact(through index: LogIndex) {
            guard index > snapshotIndex, let term = term(at: index) else { return }
            storage.removeSubrange(..<(offset(of: index) + 1))
            snapshotIndex = index
            snapshotTerm = term
        }

        /// Discards everything and restarts after a snapshot at (`index`, `term`).
        mutating func restore(index: LogIndex, term: Term) {
            storage = []
            snapshotIndex = index
            snapshotTerm = term
        }

        private func offset(of index: LogIndex) -> Int { Int(index.rawValue - snapshotIndex.rawValue - 1) }
    }
}
