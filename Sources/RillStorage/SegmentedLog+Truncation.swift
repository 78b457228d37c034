import RillModel

extension SegmentedLog {
    /// Removes every entry above `index` (Raft §5.3: a follower drops a conflicting suffix), deleting whole later
    /// segments. A segment that becomes active again loses its index file, which only sealed segments keep.
    ///
    /// Deleted segments are made durable at once (directory fsync) so they cannot reappear beside entries
    /// appended after this call; the shortened file is synced with the next `sync`.
    ///
    /// - Throws: `.compacted` if `index` is below `firstIndex - 1`: those entries are committed and gone.
    public func truncateSuffix(after index: LogIndex) throws(StorageError) {
        try state.withLock { (state) throws(StorageError) in
            guard index >= state.logStart.previous else {
                throw .compacted(requested: index, firstIndex: state.logStart)
            }
            guard index < state.lastIndex else { return }
            state.generation += 1
            state.durableIndex = min(state.durableIndex, index)
            // Keep the segment holding `index + 1` (its base ≤ index + 1); drop everything after it.
            var deleted = false
            while state.segments.count > 1, state.active.baseIndex > index.next {
                let gone = state.segments.removeLast()
                try fileSystem.remove(Segment.logPath(directory: directory, base: gone.baseIndex))
                try fileSystem.remove(Segment.indexPath(directory: directory, base: gone.baseIndex))
                state.dirtyFiles[ObjectIdentifier(gone.file)] = nil
                deleted = true
            }
            var segment = state.active
            if segment.lastIndex > index {
                try cut(&segment, after: index, carryIn: carriedMaximum(state.segments.dropLast()))
                state.markDirty(segment.file)
            }
            if deleted {
                try fileSystem.remove(Segment.indexPath(directory: directory, base: segment.baseIndex))
                try fileSystem.syncDirectory(directory)
            }
            state.active = segment
            if segment.isEmpty, state.segments.count > 1 {
                state.active.lastTerm = state.segments[state.segments.count - 2].lastTerm
            }
        }
    }

    /// The running maximum stamp at the end of `segments`.
    private func carriedMaximum(_ segments: ArraySlice<Segment>) -> Int64 { segments.last?.maxTimestamp ?? .min }

    /// Shortens `segment` to end at `index` (≥ its base - 1), rebuilding its bookkeeping from the file.
    private func cut(_ segment: inout Segment, after index: LogIndex, carryIn: Int64) throws(StorageError) {
        var rebuilt = Segment(
            baseIndex: segment.baseIndex,
            file: segment.file,
            size: Segment.headerSize,
            lastIndex: segment.baseIndex.previous,
            lastTerm: segment.lastTerm,
            maxTimestamp: carryIn,
            index: SegmentIndex()
        )
        // Replay from the last index record at or before `index` rather than from the segment start: records
        // before it stay as they are, and its running maximum already covers every earlier stamp. Forcing a record
        // for its entry reproduces exactly what the original append wrote.
        if let floor = segment.index.floor(index) {
            rebuilt.index.records = segment.index.records.filter { $0.index < floor.index }
            rebuilt.lastIndex = floor.index.previous
            rebuilt.size = floor.position
            rebuilt.maxTimestamp = floor.runningMaxTimestamp
            rebuilt.bytesSinceIndexRecord = Int64(options.indexIntervalBytes)
        }
        var cursor = FrameCursor(file: segment.file, from: rebuilt.size, to: segment.size)
        scan: while rebuilt.lastIndex < index {
            switch try cursor.next() {
            case .end:
                break scan
            case .invalid(let reason, let at):
                throw .corrupt(path: segment.file.path, reason: "\(reason) at byte \(at)")
            case .frame(let header, let position):
                guard header.index == rebuilt.lastIndex.next else {
                    throw .corrupt(
                        path: segment.file.path,
                        reason: "entry \(header.index) at byte \(position) out of sequence"
                    )
                }
                rebuilt.noteFrame(header, at: position, indexInterval: options.indexIntervalBytes)
            }
        }
        guard rebuilt.lastIndex == index else {
            throw .corrupt(path: segment.file.path, reason: "entry \(index) not found while truncating")
        }
        try segment.file.truncate(to: rebuilt.size)
        segment = rebuilt
    }

    /// Moves the log start up to `index`, durably (the `logstart` file is replaced atomically before this
    /// returns), then deletes segments that hold only entries below it. The active segment is always kept.
    ///
    /// An `index` past `lastIndex + 1` (installing a snapshot) empties the log so the next append is `index`;
    /// pass the snapshot's term as `termBefore` so `term(at: index - 1)` and `lastTerm` can answer for it.
    public func trimPrefix(before index: LogIndex, termBefore: Term? = nil, context: [UInt8] = []) throws(StorageError)
    {
        let (start, last) = state.withLock { ($0.logStart, $0.lastIndex) }
        guard index > start else { return }
        let knownTerm = index <= last.next ? try term(at: index.previous) : nil
        let recordedTerm = termBefore ?? knownTerm ?? .zero
        try AtomicFile.write(
            path: "\(directory)/\(LogStart.fileName)",
            bytes: LogStart(index: index, termBefore: recordedTerm, context: context).encoded(),
            fileSystem: fileSystem
        )
        try state.withLock { (state) throws(StorageError) in
            state.logStart = index
            state.termBeforeStart = recordedTerm
            state.startContext = context
            if index > state.lastIndex.next {
                // Past the end: start over with an empty segment based at `index`.
                let fresh = try Segment.create(
                    directory: directory,
                    base: index,
                    lastTerm: recordedTerm,
                    maxTimestamp: state.active.maxTimestamp,
                    fileSystem: fileSystem
                )
                let old = state.segments
                state.segments = [fresh]
                state.markDirty(fresh.file)
                state.durableIndex = max(state.durableIndex, index.previous)
                for segment in old where segment.baseIndex != index { try deleteFiles(of: segment, state: &state) }
            } else {
                while state.segments.count > 1, state.segments[0].lastIndex < index {
                    try deleteFiles(of: state.segments.removeFirst(), state: &state)
                }
            }
            state.directoryDirty = true
        }
    }

    private func deleteFiles(of segment: Segment, state: inout State) throws(StorageError) {
        try fileSystem.remove(Segment.logPath(directory: directory, base: segment.baseIndex))
        try fileSystem.remove(Segment.indexPath(directory: directory, base: segment.baseIndex))
        state.dirtyFiles[ObjectIdentifier(segment.file)] = nil
    }
}
