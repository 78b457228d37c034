import RillModel

extension SegmentedLog {
    /// Opens the log in `directory`, creating the directory (and fsyncing its parent) if absent, and recovers it.
    ///
    /// Recovery scans the active segment, and any sealed segment whose index file is missing or fails its
    /// checks, frame by frame. A torn tail is truncated (ftruncate, then fsync). Damage (see `RecoveryReport`)
    /// does not fail the open: the entries before it stay readable, everything after is removed, and
    /// `recovery` says so. Nothing in the files can make this trap.
    ///
    /// - Parameter durableIndex: the highest index the caller knows was synced before (Raft keeps it in
    ///   `raftstate`); a log ending below it is damaged.
    ///   - fileSystem: where the segments live; the simulation passes its own.
    public static func open(
        directory: String,
        options: Options = Options(),
        durableIndex: LogIndex = .zero,
        fileSystem: any FileSystem = PosixFileSystem()
    ) throws(StorageError) -> SegmentedLog {
        precondition(options.segmentBytes > 0 && options.indexIntervalBytes > 0, "invalid log options \(options)")
        try fileSystem.makeDirectories(directory)
        var recovery = Recovery(directory: directory, options: options, fileSystem: fileSystem)
        let state = try recovery.run(durableIndex: durableIndex)
        return SegmentedLog(
            directory: directory,
            options: options,
            recovery: recovery.report,
            state: state,
            fileSystem: fileSystem
        )
    }
}

/// The steps of `SegmentedLog.open`, accumulating what they find.
private struct Recovery {
    let directory: String
    let options: SegmentedLog.Options
    let fileSystem: any FileSystem
    private var tornBytes: Int64 = 0
    private var damage: [String] = []
    private var lastGoodIndex: LogIndex?
    private var directoryChanged = false
    private var dirty: [any StorageFile] = []

    init(directory: String, options: SegmentedLog.Options, fileSystem: any FileSystem) {
        self.directory = directory
        self.options = options
        self.fileSystem = fileSystem
    }

    var report: RecoveryReport {
        if let lastGoodIndex { return .damaged(reason: damage.joined(separator: "; "), lastGoodIndex: lastGoodIndex) }
        return tornBytes > 0 ? .truncatedTornTail(bytes: tornBytes) : .clean
    }

    private mutating func noteDamage(_ reason: String, lastGood: LogIndex) {
        damage.append(reason)
        lastGoodIndex = min(lastGoodIndex ?? lastGood, lastGood)
    }

    mutating func run(durableIndex: LogIndex) throws(StorageError) -> SegmentedLog.State {
        var logStart = LogIndex(1)
        var termBefore = Term.zero
        var startContext: [UInt8] = []
        if let bytes = try AtomicFile.read(path: "\(directory)/\(LogStart.fileName)", fileSystem: fileSystem) {
            if let decoded = LogStart(decoding: bytes) {
                logStart = decoded.index
                termBefore = decoded.termBefore
                startContext = decoded.context
            } else {
                noteDamage("logstart file is corrupt", lastGood: .zero)
            }
        }

        var segments = try loadSegments(termBefore: termBefore)

        // Reconcile the segments with the log start (a crash can interrupt trimPrefix after logstart is written).
        if let first = segments.first, first.baseIndex > logStart {
            noteDamage("entries \(logStart)..<\(first.baseIndex) are missing", lastGood: logStart.previous)
            logStart = first.baseIndex
        }
        while segments.count > 1, segments[0].lastIndex < logStart {
            try remove(segments.removeFirst().baseIndex)
        }
        if let last = segments.last, logStart > last.lastIndex.next {
            for segment in segments { try remove(segment.baseIndex) }
            segments = []
        }
        if segments.isEmpty {
            let base = max(logStart, lastGoodIndex.map { $0.next } ?? logStart)
            let fresh = try Segment.create(
                directory: directory,
                base: base,
                lastTerm: termBefore,
                maxTimestamp: .min,
                fileSystem: fileSystem
            )
            segments = [fresh]
            dirty.append(fresh.file)
            directoryChanged = true
        }

        let lastIndex = segments[segments.count - 1].lastIndex
        if lastIndex < durableIndex {
            noteDamage("log ends at \(lastIndex), below its durable index \(durableIndex)", lastGood: lastIndex)
        }
        if directoryChanged { try fileSystem.syncDirectory(directory) }

        var state = SegmentedLog.State(
            segments: segments,
            logStart: logStart,
            termBeforeStart: termBefore,
            startContext: startContext,
            durableIndex: min(durableIndex, lastIndex)
        )
        for file in dirty { state.markDirty(file) }
        // Entries past the durable index may sit only in the page cache of a crashed process: sync them again.
        for segment in segments where segment.lastIndex > state.durableIndex { state.markDirty(segment.file) }
        return state
    }

    /// Opens every segment in order, stopping at the first damage and removing everything after it.
    private mutating func loadSegments(termBefore: Term) throws(StorageError) -> [Segment] {
        let bases = try fileSystem.contents(of: directory).compactMap(Segment.base(ofFileName:)).sorted()
        var segments: [Segment] = []
        var stopped = false
        for (position, base) in bases.enumerated() {
            if stopped {
                try quarantine(base)
                continue
            }
            let isLast = position == bases.count - 1
            let file = try fileSystem.open(path: Segment.logPath(directory: directory, base: base))
            let fileSize = try file.size()
            let previous = segments.last
            if let problem = Segment.headerProblem(try file.read(count: Int(Segment.headerSize), at: 0), base: base) {
                if isLast, fileSize <= Segment.headerSize, previous.map({ $0.lastIndex.next == base }) ?? true {
                    // A segment whose creation was cut short: it never held an entry.
                    tornBytes += fileSize
                    try remove(base)
                } else {
                    noteDamage("segment \(base): \(problem)", lastGood: previous?.lastIndex ?? base.previous)
                    stopped = true
                    try quarantine(base)
                }
                continue
            }
            if let previous, base != previous.lastIndex.next {
                noteDamage(
                    "segment \(base) does not follow segment \(previous.baseIndex) ending at \(previous.lastIndex)",
                    lastGood: previous.lastIndex
                )
                stopped = true
                try quarantine(base)
                continue
            }
            let carriedTerm = previous?.lastTerm ?? termBefore
            let carriedMaximum = previous?.maxTimestamp ?? .min
            if !isLast, let segment = loadIndexed(file: file, base: base, size: fileSize) {
                segments.append(segment)
                continue
            }
            let (segment, bad) = try scan(
                file: file,
                base: base,
                size: fileSize,
                carriedTerm: carriedTerm,
                carriedMaximum: carriedMaximum
            )
            if let bad {
                let validAfter = try containsValidFrame(file: file, after: bad.position, size: fileSize, from: segment)
                if isLast && !validAfter {
                    tornBytes += fileSize - segment.size
                } else {
                    noteDamage("segment \(base): \(bad.reason) at byte \(bad.position)", lastGood: segment.lastIndex)
                    stopped = true
                    // Damage is not a torn write: keep the bytes past the good prefix for an operator.
                    try quarantineTail(file: file, base: base, from: segment.size, size: fileSize)
                }
                try file.truncate(to: segment.size)
                try file.sync()
            }
            if isLast || stopped {
                // The active segment keeps its index only in memory; a stale file must not outlive a cut.
                if bad != nil { try removeIndex(base) }
            } else {
                try writeIndex(of: segment)
            }
            segments.append(segment)
        }
        return segments
    }

    /// A sealed segment described by its index file, or nil if that file is missing or fails any check.
    private func loadIndexed(file: any StorageFile, base: LogIndex, size: Int64) -> Segment? {
        let path = Segment.indexPath(directory: directory, base: base)
        guard let bytes = try? AtomicFile.read(path: path, fileSystem: fileSystem),
            let loaded = SegmentIndex.load(bytes, base: base, segmentSize: size)
        else { return nil }
        return Segment(
            baseIndex: base,
            file: file,
            size: size,
            lastIndex: loaded.lastIndex,
            lastTerm: loaded.lastTerm,
            maxTimestamp: loaded.maxTimestamp,
            index: loaded.index
        )
    }

    /// Reads every frame after the header, stopping at the first that is invalid or out of sequence.
    private func scan(
        file: any StorageFile,
        base: LogIndex,
        size: Int64,
        carriedTerm: Term,
        carriedMaximum: Int64
    ) throws(StorageError) -> (Segment, bad: (position: Int64, reason: String)?) {
        var segment = Segment(
            baseIndex: base,
            file: file,
            size: Segment.headerSize,
            lastIndex: base.previous,
            lastTerm: carriedTerm,
            maxTimestamp: carriedMaximum,
            index: SegmentIndex()
        )
        var cursor = FrameCursor(file: file, from: Segment.headerSize, to: size)
        while true {
            switch try cursor.next() {
            case .end:
                return (segment, nil)
            case .invalid(let reason, let position):
                return (segment, (position, reason))
            case .frame(let header, let position):
                guard header.index == segment.lastIndex.next else {
                    return (segment, (position, "entry \(header.index) where \(segment.lastIndex.next) belongs"))
                }
                segment.noteFrame(header, at: position, indexInterval: options.indexIntervalBytes)
            }
        }
    }

    /// Whether a valid frame starts anywhere after the bad one at `position`: a torn tail has none.
    private func containsValidFrame(
        file: any StorageFile,
        after position: Int64,
        size: Int64,
        from segment: Segment
    )
        throws(StorageError) -> Bool
    {
        guard size > position + 1 else { return false }
        let rest = try file.read(count: Int(size - position - 1), at: position + 1)
        return rest.withUnsafeBytes { EntryFrame.containsValidFrame($0, from: 0, minimumIndex: segment.lastIndex.next) }
    }

    private mutating func writeIndex(of segment: Segment) throws(StorageError) {
        let file = try fileSystem.open(
            path: Segment.indexPath(directory: directory, base: segment.baseIndex),
            create: true,
            truncate: true
        )
        try file.write(segment.index.encoded(for: segment), at: 0)
        dirty.append(file)
        directoryChanged = true
    }

    private mutating func removeIndex(_ base: LogIndex) throws(StorageError) {
        try fileSystem.remove(Segment.indexPath(directory: directory, base: base))
        directoryChanged = true
    }

    /// Where recovery moves what it cuts off because of damage, rather than deleting it: entries after a
    /// damaged frame may be intact and acknowledged, and only an operator (or a replica's peers) can decide.
    var quarantineDirectory: String { directory + "/damaged" }

    /// Moves a whole segment (and drops its index) into the quarantine folder.
    private mutating func quarantine(_ base: LogIndex) throws(StorageError) {
        try fileSystem.makeDirectories(quarantineDirectory)
        let name =
            Segment.logPath(directory: directory, base: base).split(separator: "/").last.map(String.init)
            ?? "\(base).log"
        try fileSystem.rename(Segment.logPath(directory: directory, base: base), to: quarantineDirectory + "/" + name)
        try fileSystem.syncDirectory(quarantineDirectory)
        try removeIndex(base)
    }

    /// Copies `[from, size)` of a segment into the quarantine folder before the segment is cut there.
    private mutating func quarantineTail(
        file: any StorageFile,
        base: LogIndex,
        from: Int64,
        size: Int64
    ) throws(StorageError) {
        guard size > from else { return }
        try fileSystem.makeDirectories(quarantineDirectory)
        let bytes = try file.read(count: Int(size - from), at: from)
        let name =
            Segment.logPath(directory: directory, base: base).split(separator: "/").last.map(String.init)
            ?? "\(base).log"
        try AtomicFile.write(
            path: quarantineDirectory + "/" + name + ".tail-at-\(from)",
            bytes: bytes,
            fileSystem: fileSystem
        )
    }

    private mutating func remove(_ base: LogIndex) throws(StorageError) {
        try fileSystem.remove(Segment.logPath(directory: directory, base: base))
        try removeIndex(base)
    }
}
