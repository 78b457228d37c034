import RillModel
import RillRaft
import RillStorage
import Synchronization

/// `Raft.LogStorage` over one group's `SegmentedLog`: the shard's record log is the Raft log, so the stable
/// entries the core reads back are the segment files themselves.
///
/// A shard's snapshot is only its log start: the index before it, that entry's term and the configuration in
/// force there (its state is empty; the retained segments are the shard). `applySnapshot` and `compact(to:)`
/// record all three in the log's `logstart` file, so a restarted member still knows who the voters are once the
/// config entries are trimmed away (they change with membership), and can send the snapshot to a follower
/// behind its log start.
///
/// Config entries are found through a small in-memory list of their indexes, built by one scan at open and
/// kept current by the writes, so `configurationEntries` reads only those entries instead of the whole log.
///
/// Writes (`append`, `applySnapshot`, `compact(to:)`) follow the `Raft.LogStorage` contract: the group's serial
/// owner calls them between `Node.ready()` and `Node.advance(_:)`. Reads may come from any thread.
public final class SegmentedLogStorage: Raft.LogStorage {
    private struct State: Sendable {
        var snapshot: Raft.Snapshot?
        /// Indexes of the stored `.config` entries, ascending.
        var configIndexes: [LogIndex] = []
        /// The first read error seen; the core is told "not available" (nil), and the owner can surface this.
        var readError: StorageError?
        /// The newest entries written, contiguous and ending at the log's last index: a leader sends entries
        /// to followers right after writing them, and reading them back would cost a read and a CRC each.
        var recent: [LogEntry] = []
        var recentBytes = 0
    }

    /// Bytes of recent entries kept in memory per group.
    static let recentLimit = 2 << 20

    /// The log holding the entries.
    public let log: SegmentedLog
    private let state: Mutex<State>

    /// Wraps `log`, scanning it once for config entries.
    ///
    /// - Throws: what reading the log throws (a corrupt frame).
    public init(log: SegmentedLog) throws(StorageError) {
        self.log = log
        var indexes: [LogIndex] = []
        var cursor = log.firstIndex
        let last = log.lastIndex
        // Bounded: every pass advances `cursor` by at least one entry or stops.
        while cursor <= last {
            let chunk = try log.entries(from: cursor, maxCount: 4096, maxBytes: 8 << 20)
            guard let tail = chunk.last else { break }
            for entry in chunk where entry.kind == .config { indexes.append(entry.index) }
            cursor = tail.index.next
        }
        var restored: Raft.Snapshot?
        if log.firstIndex > LogIndex(1), let context = Self.decodeContext(log.startContext) {
            restored = Raft.Snapshot(
                index: log.firstIndex.previous,
                term: log.termBeforeStart,
                configuration: context.configuration,
                state: context.state
            )
        }
        state = Mutex(State(snapshot: restored, configIndexes: indexes))
    }

    /// The first error a read hit, if any: reads answer nil (unavailable) rather than trap, so a damaged
    /// segment shows up here and in the core's fallback to snapshots instead of as a crash.
    public var readError: StorageError? { state.withLock { $0.readError } }

    // MARK: - Raft.LogStorage

    public var snapshot: Raft.Snapshot? { state.withLock { $0.snapshot } }
    public var firstIndex: LogIndex { log.firstIndex }
    public var lastIndex: LogIndex { log.lastIndex }

    public func term(at index: LogIndex) -> Term? {
        if let term = state.withLock({ state in Self.cached(index, in: state.recent)?.term }) { return term }
        do {
            return try log.term(at: index)
        } catch {
            noteReadError(error)
            return nil
        }
    }

    public func entries(from: LogIndex, through: LogIndex, maxBytes: Int) -> [LogEntry]? {
        guard from >= log.firstIndex, through <= log.lastIndex else { return nil }
        guard from <= through else { return [] }
        if let cached = state.withLock({ state in
            Self.cachedRange(from: from, through: through, maxBytes: maxBytes, in: state.recent)
        }) {
            return cached
        }
        var result: [LogEntry] = []
        var total = 0
        var cursor = from
        do {
            // Bounded: each pass appends at least one entry or returns.
            while cursor <= through {
                let wanted = Int(clamping: cursor.distance(to: through) + 1)
                // The segment log limits by frame bytes, the core by `Raft.entrySize`; read about what is wanted
                // and cut by the core's measure below, so the answer is exactly what the contract says.
                let chunk = try log.entries(from: cursor, maxCount: min(wanted, 4096), maxBytes: max(maxBytes, 1))
                guard !chunk.isEmpty else { return nil }
                for entry in chunk {
                    total += Raft.entrySize(entry)
                    if total > maxBytes && !result.isEmpty { return result }
                    result.append(entry)
                    cursor = entry.index.next
                }
            }
        } catch {
            noteReadError(error)
            return nil
        }
        return result
    }

    public func configurationEntries(from: LogIndex, through: LogIndex) -> [LogEntry] {
        let indexes = state.withLock { $0.configIndexes.filter { $0 >= from && $0 <= through } }
        var found: [LogEntry] = []
        for index in indexes {
            do {
                if let entry = try log.entry(at: index), entry.kind == .config { found.append(entry) }
            } catch {
                noteReadError(error)
            }
        }
        return found
    }

    // MARK: - Writes (the serial owner only)

    /// Writes `entries` (`Ready.entries`): first removes every stored entry at or after the first one's index
    /// (a new leader overwrote them, Raft §5.3), then appends. Page cache only; durable after a sync.
    public func append(_ entries: [LogEntry]) throws(StorageError) {
        guard let first = entries.first else { return }
        if first.index <= log.lastIndex {
            try log.truncateSuffix(after: first.index.previous)
        }
        // A gap would break every later read; the core never hands one out, so this is a contract violation.
        precondition(first.index == log.lastIndex.next, "storage write at \(first.index) after \(log.lastIndex)")
        state.withLock { state in
            state.configIndexes.removeAll { $0 >= first.index }
        }
        try log.append(entries)
        let added = entries.filter { $0.kind == .config }.map(\.index)
        state.withLock { state in
            state.configIndexes.append(contentsOf: added)
            Self.remember(entries, in: &state)
        }
    }

    /// Adds freshly written entries to the recent cache, dropping any it held from their first index on.
    private static func remember(_ entries: [LogEntry], in state: inout State) {
        guard let first = entries.first else { return }
        if let start = state.recent.first?.index, first.index >= start,
            first.index <= start.advanced(by: Int64(state.recent.count))
        {
            let keep = Int(start.distance(to: first.index))
            for dropped in state.recent[keep...] { state.recentBytes -= dropped.payload.count }
            state.recent.removeSubrange(keep...)
        } else {
            state.recent.removeAll()
            state.recentBytes = 0
        }
        state.recent.append(contentsOf: entries)
        state.recentBytes += entries.reduce(0) { $0 + $1.payload.count }
        var evict = 0
        while state.recentBytes > recentLimit, evict < state.recent.count - 1 {
            state.recentBytes -= state.recent[evict].payload.count
            evict += 1
        }
        if evict > 0 { state.recent.removeFirst(evict) }
    }

    private static func cached(_ index: LogIndex, in recent: [LogEntry]) -> LogEntry? {
        guard let start = recent.first?.index, index >= start else { return nil }
        let offset = Int(start.distance(to: index))
        return offset < recent.count ? recent[offset] : nil
    }

    /// `from...through` from the cache, cut by `maxBytes` as the contract says; nil unless all of it is there.
    private static func cachedRange(
        from: LogIndex,
        through: LogIndex,
        maxBytes: Int,
        in recent: [LogEntry]
    ) -> [LogEntry]? {
        guard let start = recent.first?.index, from >= start else { return nil }
        let first = Int(start.distance(to: from))
        let last = Int(start.distance(to: through))
        guard last < recent.count else { return nil }
        var result: [LogEntry] = []
        var total = 0
        for entry in recent[first...last] {
            total += Raft.entrySize(entry)
            if total > maxBytes && !result.isEmpty { break }
            result.append(entry)
        }
        return result
    }

    /// Installs `snapshot` (`Ready.snapshot`): discards every stored entry and starts the log after it. The log
    /// start is written durably by `trimPrefix`; deleted segments are made durable by the next sync.
    public func applySnapshot(_ snapshot: Raft.Snapshot) throws(StorageError) {
        // The core installs only snapshots past its commit, so never one below the log start; were it to,
        // the entries after it are still the log's and must stay, with their config indexes.
        guard snapshot.index >= log.firstIndex.previous else { return }
        if snapshot.index < log.lastIndex {
            // Entries after the snapshot belong to the old history; the contract discards them all.
            try log.truncateSuffix(after: snapshot.index)
        }
        try log.trimPrefix(
            before: snapshot.index.next,
            termBefore: snapshot.term,
            context: Self.context(snapshot)
        )
        state.withLock { state in
            state.snapshot = snapshot
            state.configIndexes.removeAll()
            state.recent.removeAll()
            state.recentBytes = 0
        }
    }

    /// Drops entries through `snapshot.index` (after `Node.compact(through:state:)`) and keeps the snapshot the
    /// core made. Ignored when the log already starts after it. Whole segments go; the rest stays readable
    /// below the new start until its segment is deleted, which the contract allows ("lazily").
    public func compact(to snapshot: Raft.Snapshot) throws(StorageError) {
        guard snapshot.index >= log.firstIndex else { return }
        try log.trimPrefix(
            before: snapshot.index.next,
            termBefore: snapshot.term,
            context: Self.context(snapshot)
        )
        state.withLock { state in
            state.snapshot = snapshot
            state.configIndexes.removeAll { $0 <= snapshot.index }
            let dropped = state.recent.prefix { $0.index <= snapshot.index }
            state.recentBytes -= dropped.reduce(0) { $0 + $1.payload.count }
            state.recent.removeFirst(dropped.count)
        }
    }

    /// What `logstart` keeps beside the start: the configuration alone (as before snapshots had state), or
    /// `0x02 | u32 configuration length | configuration | state` (big-endian) when the snapshot has state.
    static func context(_ snapshot: Raft.Snapshot) -> [UInt8] {
        let configuration = snapshot.configuration.encoded
        guard !snapshot.state.isEmpty else { return configuration }
        var bytes: [UInt8] = [2]
        bytes.reserveCapacity(5 + configuration.count + snapshot.state.count)
        withUnsafeBytes(of: UInt32(configuration.count).bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: configuration)
        bytes.append(contentsOf: snapshot.state)
        return bytes
    }

    static func decodeContext(_ bytes: [UInt8]) -> (configuration: Raft.Configuration, state: [UInt8])? {
        guard bytes.first == 2 else { return Raft.Configuration(decoding: bytes).map { ($0, []) } }
        guard bytes.count >= 5 else { return nil }
        let length = bytes[1..<5].reduce(0) { $0 << 8 | Int($1) }
        guard 5 + length <= bytes.count,
            let configuration = Raft.Configuration(decoding: Array(bytes[5..<5 + length]))
        else { return nil }
        return (configuration, Array(bytes[(5 + length)...]))
    }

    private func noteReadError(_ error: StorageError) {
        state.withLock { state in
            if state.readError == nil { state.readError = error }
        }
    }
}
