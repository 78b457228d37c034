import RillModel

extension Raft {
    /// The core's view of the log (etcd-io/raft `raftLog`): a compacted prefix (`snapshotIndex`, `snapshotTerm`),
    /// the stable entries the shell has written to `storage`, and the `unstable` tail the core holds in memory.
    ///
    /// `unstable` holds the entries from `unstableOffset` on: those appended but not yet reported durable through
    /// `Core.advance`. They take precedence over anything `storage` holds at the same indexes (a new leader may
    /// have overwritten them; the shell will, with the next Ready). Below `unstableOffset` the log is read from
    /// `storage`, which must hold exactly what the shell wrote there. After `advance` the handed-out entries
    /// leave memory, so a node that keeps up holds no entries at all between Readys.
    public struct RaftLog: Sendable {
        /// The stable part, written by the shell (see `Raft.LogStorage` for the contract).
        public let storage: any LogStorage
        /// The last index covered by the snapshot (0 when none); the log starts after it.
        public private(set) var snapshotIndex: LogIndex
        /// The term of the entry at `snapshotIndex`.
        public private(set) var snapshotTerm: Term
        /// The index of `unstable.first` (or where the next entry goes when empty); below it, `storage` answers.
        public private(set) var unstableOffset: LogIndex
        /// The entries not yet reported durable, in memory.
        public private(set) var unstable: [LogEntry] = []

        /// A log recovered from `storage`: it starts after the storage's snapshot (or its compacted boundary) and
        /// holds everything stored; nothing is unstable.
        public init(storage: any LogStorage) {
            self.storage = storage
            let base: LogIndex
            let baseTerm: Term
            if let snapshot = storage.snapshot, snapshot.index >= storage.firstIndex.previous {
                base = snapshot.index
                baseTerm = snapshot.term
            } else {
                base = storage.firstIndex.previous
                baseTerm = storage.term(at: base) ?? .zero
            }
            self.snapshotIndex = base
            self.snapshotTerm = baseTerm
            self.unstableOffset = max(storage.lastIndex, base).next
        }

        /// The first retained index (the log start).
        public var firstIndex: LogIndex { snapshotIndex.next }
        /// The last index, or `snapshotIndex` when no entry is retained.
        public var lastIndex: LogIndex { unstableOffset.advanced(by: Int64(unstable.count)).previous }
        /// The term of the last entry.
        public var lastTerm: Term { term(at: lastIndex) ?? snapshotTerm }

        /// The term at `index`, or nil when `index` is compacted away, beyond the end, or unavailable in storage.
        public func term(at index: LogIndex) -> Term? {
            if index == snapshotIndex { return snapshotTerm }
            guard index > snapshotIndex, index <= lastIndex else { return nil }
            if index >= unstableOffset { return unstable[unstableOffset(of: index)].term }
            return storage.term(at: index)
        }

        /// Whether the log holds an entry at `index` with `term`.
        public func matches(index: LogIndex, term: Term) -> Bool { self.term(at: index) == term }

        /// The entry at `index`, if retained.
        public func entry(at index: LogIndex) -> LogEntry? {
            guard index > snapshotIndex, index <= lastIndex else { return nil }
            return entries(from: index, through: index)?.first
        }

        /// Up to `maxCount` entries from `index` through `last` (default `lastIndex`), cut after the entry that
        /// reaches `maxBytes` but at least one; nil when `index` is compacted away or storage cannot supply it.
        public func entries(
            from index: LogIndex,
            through last: LogIndex? = nil,
            maxCount: Int = .max,
            maxBytes: Int = .max
        ) -> [LogEntry]? {
            guard index > snapshotIndex else { return nil }
            let end = min(last ?? lastIndex, lastIndex)
            guard index <= end else { return [] }
            let available = Int(end.rawValue - index.rawValue) + 1
            let upper = index.advanced(by: Int64(min(max(maxCount, 1), available) - 1))
            var result: [LogEntry] = []
            var budget = maxBytes
            if index < unstableOffset {
                let storedUpper = min(upper, unstableOffset.previous)
                guard let stored = storage.entries(from: index, through: storedUpper, maxBytes: maxBytes),
                    let first = stored.first
                else { return nil }
                precondition(first.index == index, "storage answered \(first.index) for entries from \(index)")
                // Cut short by the byte limit: stop here.
                if stored.count < Int(storedUpper.rawValue - index.rawValue) + 1 { return stored }
                result = stored
                for entry in stored { budget -= Raft.entrySize(entry) }
                if storedUpper == upper { return result }
            }
            let lower = unstableOffset(of: max(index, unstableOffset))
            let slice = unstable[lower...unstableOffset(of: upper)]
            if result.isEmpty { return Array(Raft.limit(slice, maxBytes: budget)) }
            for entry in slice {
                budget -= Raft.entrySize(entry)
                if budget < 0 { break }
                result.append(entry)
            }
            return result
        }

        /// The unstable entries from `index` on (not read from storage): what a Ready hands out to persist.
        func unstableEntries(from index: LogIndex) -> [LogEntry] {
            guard index <= lastIndex else { return [] }
            return Array(unstable[unstableOffset(of: max(index, unstableOffset))...])
        }

        /// Raft §5.4.1: a candidate's log is at least as up-to-date as ours if its last term is higher, or equal
        /// with an index at least as high.
        public func isUpToDate(lastIndex candidateIndex: LogIndex, lastTerm candidateTerm: Term) -> Bool {
            let ourTerm = lastTerm
            return candidateTerm > ourTerm || (candidateTerm == ourTerm && candidateIndex >= lastIndex)
        }

        /// The last index at or below `index` whose term is at most `term`, with that term: the fast back-off
        /// search of etcd-io/raft. Below the log start it answers (`index`, 0): "unknown, probe lower".
        public func lastIndex(atOrBelow index: LogIndex, withTermAtMost term: Term) -> (index: LogIndex, term: Term) {
            var candidate = min(index, lastIndex)
            while candidate > snapshotIndex {
                guard let found = self.term(at: candidate) else { return (candidate, .zero) }
                if found <= term { return (candidate, found) }
                candidate = candidate.previous
            }
            if candidate == snapshotIndex, snapshotTerm <= term { return (candidate, snapshotTerm) }
            return (candidate, .zero)
        }

        /// Appends `entries` (contiguous, starting at most one past the end), first dropping any entry at or after
        /// the first new index. Returns the index the log was cut at, if it was. Entries cut from the stable part
        /// stay in storage, masked, until the shell overwrites them with the next Ready.
        @discardableResult
        mutating func append(_ entries: [LogEntry]) -> LogIndex? {
            guard let first = entries.first else { return nil }
            precondition(
                first.index > snapshotIndex && first.index <= lastIndex.next,
                "append at \(first.index) leaves a gap"
            )
            let cut: LogIndex? = first.index <= lastIndex ? first.index : nil
            if first.index >= unstableOffset {
                unstable.removeSubrange(unstableOffset(of: first.index)...)
                unstable.append(contentsOf: entries)
            } else {
                unstableOffset = first.index
                unstable = entries
            }
            return cut
        }

        /// The shell reported entries through (`index`, `term`) durable in storage: they leave memory. Ignored
        /// when the log no longer holds that entry in `unstable` (a later step overwrote it, or it is stable).
        mutating func stableTo(index: LogIndex, term: Term) {
            guard index >= unstableOffset, index <= lastIndex, unstable[unstableOffset(of: index)].term == term
            else { return }
            // The shell contract: written to storage before advance. Dropping them otherwise would lose them.
            precondition(
                storage.term(at: index) == term,
                "advance reported \(term)/\(index) durable but storage lacks it"
            )
            unstable.removeFirst(unstableOffset(of: index) + 1)
            unstableOffset = index.next
        }

        /// Drops every entry through `index` (which must be retained or the end), keeping its term as the new base.
        mutating func compact(through index: LogIndex) {
            guard index > snapshotIndex, let term = term(at: index) else { return }
            if index >= unstableOffset {
                unstable.removeFirst(unstableOffset(of: index) + 1)
                unstableOffset = index.next
            }
            snapshotIndex = index
            snapshotTerm = term
        }

        /// Discards everything and restarts after a snapshot at (`index`, `term`); storage entries are masked until
        /// the shell persists the snapshot.
        mutating func restore(index: LogIndex, term: Term) {
            unstable = []
            unstableOffset = index.next
            snapshotIndex = index
            snapshotTerm = term
        }

        private func unstableOffset(of index: LogIndex) -> Int { Int(index.rawValue - unstableOffset.rawValue) }
    }
}
