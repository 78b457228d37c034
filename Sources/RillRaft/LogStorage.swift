import RillModel
import Synchronization

extension Raft {
    /// The *stable* part of a group's log: what the shell has written (etcd-io/raft `Storage`). The core reads
    /// it synchronously and keeps in memory only the entries it has not yet been told are durable
    /// (`RaftLog.unstable`), so a shard log of gigabytes never has to fit in memory. The runtime backs it with the
    /// segmented log and a cache of recent entries; the simulation and the tests with `Raft.MemoryStorage`.
    ///
    /// The shell contract (what the core relies on):
    ///
    /// - **Write before advance.** For each `Ready`, the shell writes `ready.snapshot` (discarding every stored
    ///   entry and starting after it), then `ready.entries` (discarding stored entries at or after the first
    ///   one's index), then the hard state, and syncs, *before* calling `Core.advance(ready)`. Once `advance`
    ///   reports entries durable they leave the core's memory and are read back from here only.
    /// - **Only the shell mutates it, between Readys.** Mutations happen from the thread that drives the node,
    ///   between `ready()` and `advance(_:)` or when compacting; never concurrently with a call into the node.
    /// - **Compaction follows the core.** After `Core.compact(through:state:)` the shell may drop entries
    ///   through that index, lazily; it must never drop entries the core has not compacted, and it keeps the
    ///   snapshot the core made (`snapshot`), so a restart starts after it.
    /// - **Reads are exact.** `term(at:)` and `entries(from:through:maxBytes:)` return what was written at those
    ///   indexes (the stable log is a prefix of the core's log up to `RaftLog.unstableOffset`), or nil when the
    ///   index is compacted or otherwise unavailable; the core then falls back to sending a snapshot.
    /// - **Determinism.** Given the same writes, the same answers: the core stays a pure function of its inputs.
    public protocol LogStorage: Sendable {
        /// The last snapshot written (by `Ready.snapshot` or after a compaction), if any: a restart starts after
        /// its index.
        var snapshot: Snapshot? { get }
        /// The first index with a stored entry; `firstIndex.previous` is the compacted boundary, whose term
        /// `term(at:)` answers too.
        var firstIndex: LogIndex { get }
        /// The last stored index, or `firstIndex.previous` when no entry is stored.
        var lastIndex: LogIndex { get }
        /// The term at `index` for `firstIndex.previous...lastIndex` (0 at index 0); nil outside that range.
        func term(at index: LogIndex) -> Term?
        /// The entries in `from...through`, in order, starting at `from`, cut after the entry that reaches
        /// `maxBytes` (by `Raft.entrySize`) but never empty for a non-empty range. Nil when `from` is compacted
        /// away or the range is not stored.
        func entries(from: LogIndex, through: LogIndex, maxBytes: Int) -> [LogEntry]?
        /// The config entries stored in `from...through`, oldest first. Called once when a node starts; the
        /// default reads the whole range, a disk-backed storage should answer from an index of them.
        func configurationEntries(from: LogIndex, through: LogIndex) -> [LogEntry]
    }

    /// The size an entry counts for in byte limits: its payload plus a fixed header.
    public static func entrySize(_ entry: LogEntry) -> Int { entry.payload.count + 32 }

    /// The prefix of `entries` whose running size stays within `maxBytes`, and at least one entry.
    static func limit(_ entries: ArraySlice<LogEntry>, maxBytes: Int) -> ArraySlice<LogEntry> {
        var total = 0
        for (offset, entry) in entries.enumerated() {
            total += entrySize(entry)
            if total > maxBytes { return entries.prefix(max(offset, 1)) }
        }
        return entries
    }
}

extension Raft.LogStorage {
    public func configurationEntries(from: LogIndex, through: LogIndex) -> [LogEntry] {
        var found: [LogEntry] = []
        var cursor = from
        while cursor <= through, let chunk = entries(from: cursor, through: through, maxBytes: 1 << 24),
            let last = chunk.last
        {
            found += chunk.filter { $0.kind == .config }
            cursor = last.index.next
        }
        return found
    }
}

extension Raft {
    /// A `LogStorage` in memory, for the simulation and the tests: a reference, so the shell that writes it and
    /// the node that reads it share one log (and a restarted node finds what was written). Thread-safe, though
    /// the contract only needs it to be mutated between Readys.
    public final class MemoryStorage: LogStorage {
        private struct State: Sendable {
            var snapshot: Snapshot?
            /// The compacted boundary: index and term of the entry before `entries`.
            var baseIndex: LogIndex = .zero
            var baseTerm: Term = .zero
            var entries: [LogEntry] = []

            var lastIndex: LogIndex { baseIndex.advanced(by: Int64(entries.count)) }
            func offset(of index: LogIndex) -> Int { Int(index.rawValue - baseIndex.rawValue - 1) }
        }

        private let state: Mutex<State>

        /// A storage holding `snapshot` (if any) and then `entries`, which must follow on.
        public init(snapshot: Snapshot? = nil, entries: [LogEntry] = []) {
            var initial = State(snapshot: snapshot)
            if let snapshot {
                initial.baseIndex = snapshot.index
                initial.baseTerm = snapshot.term
            }
            state = Mutex(initial)
            append(entries)
        }

        public var snapshot: Snapshot? { state.withLock { $0.snapshot } }
        public var firstIndex: LogIndex { state.withLock { $0.baseIndex.next } }
        public var lastIndex: LogIndex { state.withLock { $0.lastIndex } }
        /// Every stored entry, oldest first (for tests and checks).
        public var storedEntries: [LogEntry] { state.withLock { $0.entries } }

        public func term(at index: LogIndex) -> Term? {
            state.withLock { state in
                if index == state.baseIndex { return state.baseTerm }
                guard index > state.baseIndex, index <= state.lastIndex else { return nil }
                return state.entries[state.offset(of: index)].term
            }
        }

        public func entries(from: LogIndex, through: LogIndex, maxBytes: Int) -> [LogEntry]? {
            state.withLock { state in
                guard from > state.baseIndex, through <= state.lastIndex else { return nil }
                guard from <= through else { return [] }
                let slice = state.entries[state.offset(of: from)...state.offset(of: through)]
                return Array(Raft.limit(slice, maxBytes: maxBytes))
            }
        }

        /// Writes `entries` (contiguous, starting at most one past the end), first discarding every stored entry
        /// at or after the first one's index: `Ready.entries`.
        public func append(_ entries: [LogEntry]) {
            guard let first = entries.first else { return }
            state.withLock { state in
                precondition(
                    first.index > state.baseIndex && first.index <= state.lastIndex.next,
                    "storage write at \(first.index) leaves a gap after \(state.lastIndex)"
                )
                for (offset, entry) in entries.enumerated() {
                    precondition(entry.index == first.index.advanced(by: Int64(offset)), "entries must be contiguous")
                }
                state.entries.removeSubrange(state.offset(of: first.index)...)
                state.entries.append(contentsOf: entries)
            }
        }

        /// Discards every entry and starts after `snapshot`: `Ready.snapshot`.
        public func applySnapshot(_ snapshot: Snapshot) {
            state.withLock { state in
                state = State(snapshot: snapshot, baseIndex: snapshot.index, baseTerm: snapshot.term)
            }
        }

        /// Drops the entries through `snapshot.index` and keeps the snapshot the core made when it compacted.
        /// Ignored when the storage already starts after it.
        public func compact(to snapshot: Snapshot) {
            state.withLock { state in
                guard snapshot.index > state.baseIndex else { return }
                let drop = min(Int(snapshot.index.rawValue - state.baseIndex.rawValue), state.entries.count)
                state.entries.removeFirst(drop)
                state.baseIndex = snapshot.index
                state.baseTerm = snapshot.term
                state.snapshot = snapshot
            }
        }
    }
}
