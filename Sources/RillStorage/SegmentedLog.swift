import RillModel
import Synchronization

/// A durable, append-only log of `LogEntry` values in a directory of segment files: one group's Raft log.
///
/// Directory layout (ARCHITECTURE "Storage"):
///
///     00000000000000000001.log   entries from index 1 (format: `Segment`, `EntryFrame`)
///     00000000000000000001.idx   its sparse index (format: `SegmentIndex`), for segments no longer appended to
///     logstart                   the log start, written atomically by `trimPrefix` (format: `LogStart`)
///
/// I/O is blocking POSIX (pwrite, pread, fdatasync); run it off the event loops. One serial writer calls
/// `append`, `truncateSuffix` and `trimPrefix`; any number of threads read and `sync` concurrently. Appends reach
/// the page cache only; `sync` (usually through `Flusher`) makes them durable and advances `durableIndex`.
///
/// A read that races a `truncateSuffix` may see entries from either side of it; Raft only truncates
/// uncommitted entries and only serves committed ones, so callers never observe the difference.
///
/// `@unchecked Sendable`: all mutable state lives in `state`, a `Mutex`; the configuration is immutable. File
/// handles taken out of the lock stay valid because a `StorageFile` closes its descriptor only when released.
public final class SegmentedLog: @unchecked Sendable {
    /// Tuning for a log.
    public struct Options: Sendable {
        /// The active segment rolls once it holds at least this many bytes.
        public var segmentBytes: Int
        /// Bytes of entries between sparse-index records.
        public var indexIntervalBytes: Int

        /// Defaults: 64 MiB segments, an index record every 4 KiB.
        public init(segmentBytes: Int = 64 << 20, indexIntervalBytes: Int = 4 << 10) {
            self.segmentBytes = segmentBytes
            self.indexIntervalBytes = indexIntervalBytes
        }
    }

    /// What one segment holds, for metrics and retention.
    public struct SegmentInfo: Sendable, Equatable {
        /// The segment's base index (its file name).
        public var firstIndex: LogIndex
        /// `firstIndex - 1` for an empty segment.
        public var lastIndex: LogIndex
        /// The running maximum entry stamp at the segment's end (`Int64.min` if none): at least every stamp in
        /// the segment, so "every entry is older than the cutoff" is `maxTimestamp < cutoff`.
        public var maxTimestamp: Int64
        /// The segment file's size.
        public var bytes: Int64
    }

    struct State: Sendable {
        /// Sorted by base index, contiguous, never empty: the last one is the active segment.
        var segments: [Segment]
        var logStart: LogIndex
        /// The term of the entry just below `logStart`, when known (etcd's dummy entry); `.zero` otherwise.
        var termBeforeStart: Term
        /// What the owner recorded with the log start (`trimPrefix(context:)`): the Raft configuration there.
        var startContext: [UInt8] = []
        var durableIndex: LogIndex
        /// Files written since the last sync, by identity.
        var dirtyFiles: [ObjectIdentifier: any StorageFile] = [:]
        var directoryDirty = false
        /// Bumped by `truncateSuffix` so a sync that snapshotted the old tail does not vouch for a new one.
        var generation: UInt64 = 0
        var syncFault: StorageError?
        var beforeSyncHook: (@Sendable () -> Void)?

        var active: Segment {
            get { segments[segments.count - 1] }
            set { segments[segments.count - 1] = newValue }
        }
        var lastIndex: LogIndex { active.lastIndex }

        mutating func markDirty(_ file: any StorageFile) { dirtyFiles[ObjectIdentifier(file)] = file }
    }

    /// The directory holding the segments.
    public let directory: String
    /// The options the log was opened with.
    public let options: Options
    /// What recovery found when the log was opened.
    public let recovery: RecoveryReport
    /// Where the segments live: the disk, or the simulation's.
    let fileSystem: any FileSystem
    let state: Mutex<State>

    init(directory: String, options: Options, recovery: RecoveryReport, state: State, fileSystem: any FileSystem) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.options = options
        self.recovery = recovery
        self.state = Mutex(state)
    }

    // MARK: - Positions

    /// The log start: the first index that can be read. 1 for a new log; moved up by `trimPrefix`.
    public var firstIndex: LogIndex { state.withLock { $0.logStart } }
    /// The last index in the log, `firstIndex - 1` when it is empty (0 for a new log).
    public var lastIndex: LogIndex { state.withLock { $0.lastIndex } }
    /// The term of the entry just before the log start (`.zero` when unknown).
    public var termBeforeStart: Term { state.withLock { $0.termBeforeStart } }
    /// What the last `trimPrefix(context:)` recorded with the log start; empty if nothing was.
    public var startContext: [UInt8] { state.withLock { $0.startContext } }
    /// The term of `lastIndex`; for an empty log, the term recorded for the entry before the log start.
    public var lastTerm: Term {
        state.withLock { $0.lastIndex < $0.logStart ? $0.termBeforeStart : $0.active.lastTerm }
    }
    /// The highest index covered by a completed `sync` (or vouched for by the caller at open).
    public var durableIndex: LogIndex { state.withLock { $0.durableIndex } }

    // MARK: - Metrics

    /// Bytes in all segment files.
    public var byteSize: Int64 { state.withLock { $0.segments.reduce(0) { $0 + $1.size } } }
    /// Number of segment files.
    public var segmentCount: Int { state.withLock { $0.segments.count } }

    /// Every segment, oldest first, so the owner can choose whole expired segments to trim.
    public func segments() -> [SegmentInfo] {
        state.withLock { state in
            state.segments.map {
                SegmentInfo(
                    firstIndex: $0.baseIndex,
                    lastIndex: $0.lastIndex,
                    maxTimestamp: $0.maxTimestamp,
                    bytes: $0.size
                )
            }
        }
    }

    // MARK: - Appending

    /// Appends entries whose indexes continue the log (`lastIndex + 1`, `+ 2`, ...), to the page cache only.
    ///
    /// Entries bound for one segment go out in a single pwrite. The active segment rolls once it has reached
    /// `options.segmentBytes`; the new file marks the directory for the next sync. If this throws (disk full),
    /// a prefix of `entries` may have been appended: `lastIndex` says how far it got, and no partial entry is
    /// ever visible.
    public func append(_ entries: [LogEntry]) throws(StorageError) {
        guard !entries.isEmpty else { return }
        let expected = lastIndex.next
        for (offset, entry) in entries.enumerated() {
            let wanted = expected.advanced(by: Int64(offset))
            precondition(
                entry.index == wanted,
                "append out of sequence: entry \(entry.index) at batch position \(offset), log expects \(wanted)"
            )
        }
        // Encode (and checksum) outside the lock; only the write and the bookkeeping hold it.
        var buffer: [UInt8] = []
        buffer.reserveCapacity(entries.reduce(0) { $0 + EntryFrame.encodedSize($1) })
        for entry in entries { EntryFrame.encode(entry, into: &buffer) }

        try state.withLock { (state) throws(StorageError) in
            var chunkStart = 0
            var offsetInBuffer = 0
            var active = state.active
            var writePosition = active.size
            for entry in entries {
                let frameSize = EntryFrame.encodedSize(entry)
                if !active.isEmpty && active.size >= Int64(options.segmentBytes) {
                    try writeChunk(buffer, chunkStart..<offsetInBuffer, to: active, at: writePosition, state: &state)
                    state.active = active
                    try roll(&state)
                    active = state.active
                    chunkStart = offsetInBuffer
                    writePosition = active.size
                }
                let header = EntryFrame.Header(
                    term: entry.term,
                    index: entry.index,
                    kind: entry.kind,
                    timestampMillis: entry.timestampMillis,
                    size: frameSize
                )
                active.noteFrame(header, at: active.size, indexInterval: options.indexIntervalBytes)
                offsetInBuffer += frameSize
            }
            try writeChunk(buffer, chunkStart..<offsetInBuffer, to: active, at: writePosition, state: &state)
            state.active = active
        }
    }

    private func writeChunk(
        _ buffer: [UInt8],
        _ range: Range<Int>,
        to segment: Segment,
        at position: Int64,
        state: inout State
    ) throws(StorageError) {
        guard !range.isEmpty else { return }
        try buffer.withBytes { (raw) throws(StorageError) in
            try segment.file.write(UnsafeRawBufferPointer(rebasing: raw[range]), at: position)
        }
        state.markDirty(segment.file)
    }

    /// Seals the active segment (writing its index file) and starts a new one after it.
    private func roll(_ state: inout State) throws(StorageError) {
        let sealed = state.active
        let indexFile = try fileSystem.open(
            path: Segment.indexPath(directory: directory, base: sealed.baseIndex),
            create: true,
            truncate: true
        )
        try indexFile.write(sealed.index.encoded(for: sealed), at: 0)
        state.markDirty(indexFile)
        let next = try Segment.create(
            directory: directory,
            base: sealed.lastIndex.next,
            lastTerm: sealed.lastTerm,
            maxTimestamp: sealed.maxTimestamp,
            fileSystem: fileSystem
        )
        state.segments.append(next)
        state.markDirty(next.file)
        state.directoryDirty = true
    }

    // MARK: - Durability

    /// fdatasyncs every file written since the last sync, and the directory if a file was created or deleted,
    /// then advances `durableIndex` to the last index as of the call. Blocks; an error here is fatal to the
    /// caller (ARCHITECTURE: never retry an fsync).
    public func sync() throws(StorageError) {
        let (files, directoryDirty, target, generation, fault, hook) = state.withLock { state in
            let snapshot = (
                Array(state.dirtyFiles.values), state.directoryDirty, state.lastIndex, state.generation,
                state.syncFault, state.beforeSyncHook
            )
            state.dirtyFiles = [:]
            state.directoryDirty = false
            return snapshot
        }
        hook?()
        if let fault { throw fault }
        for file in files { try file.sync() }
        if directoryDirty { try fileSystem.syncDirectory(directory) }
        state.withLock { state in
            // A truncation since the snapshot may have replaced entries up to `target`; leave them to the next sync.
            if state.generation == generation { state.durableIndex = max(state.durableIndex, target) }
        }
    }

    // MARK: - Test hooks

    /// Makes every later `sync` fail with `error` (nil restores normal syncs). For fault-injection tests.
    package func injectSyncFault(_ error: StorageError?) {
        state.withLock { $0.syncFault = error }
    }

    /// Runs `hook` at the start of every later `sync`, on the syncing thread. For tests that hold a round open.
    package func setBeforeSyncHook(_ hook: (@Sendable () -> Void)?) {
        state.withLock { $0.beforeSyncHook = hook }
    }
}
