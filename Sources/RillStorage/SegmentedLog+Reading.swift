import RillModel

extension SegmentedLog {
    /// A consistent view of the segments for one read; the file I/O then runs without the lock.
    private struct ReadView {
        var segments: [Segment]
        var logStart: LogIndex
        var lastIndex: LogIndex
        var termBeforeStart: Term

        /// The position of the segment holding `index`, which must lie in `logStart...lastIndex`.
        func segmentPosition(holding index: LogIndex) -> Int {
            var low = 0
            var high = segments.count
            while low < high {
                let middle = (low + high) / 2
                if segments[middle].baseIndex <= index { low = middle + 1 } else { high = middle }
            }
            return max(low - 1, 0)
        }
    }

    private func readView() -> ReadView {
        state.withLock {
            ReadView(
                segments: $0.segments,
                logStart: $0.logStart,
                lastIndex: $0.lastIndex,
                termBeforeStart: $0.termBeforeStart
            )
        }
    }

    /// Up to `maxCount` consecutive entries from `from`, stopping before the total frame bytes would pass
    /// `maxBytes`, but always at least one entry when `from` exists. Empty when `from` is past `lastIndex`.
    ///
    /// - Throws: `.compacted` below `firstIndex`; `.corrupt` if a frame fails its CRC.
    public func entries(from: LogIndex, maxCount: Int, maxBytes: Int) throws(StorageError) -> [LogEntry] {
        let view = readView()
        guard from >= view.logStart else { throw .compacted(requested: from, firstIndex: view.logStart) }
        guard from <= view.lastIndex, maxCount > 0 else { return [] }
        var result: [LogEntry] = []
        var bytes = 0
        var want = from
        var position = view.segmentPosition(holding: from)
        while position < view.segments.count, want <= view.lastIndex {
            let segment = view.segments[position]
            let start = segment.index.floor(want)?.position ?? Segment.headerSize
            // Read ahead about what the caller asked for, not a whole chunk, when the request is small.
            let chunk = min(1 << 20, (64 << 10) + max(0, min(maxBytes, 1 << 20)))
            var cursor = FrameCursor(file: segment.file, from: start, to: segment.size, chunkSize: chunk)
            scan: while true {
                switch try cursor.next() {
                case .end:
                    break scan
                case .invalid(let reason, let at):
                    throw .corrupt(path: segment.file.path, reason: "\(reason) at byte \(at)")
                case .frame(let header, _):
                    if header.index < want { continue }
                    guard header.index == want else {
                        throw .corrupt(path: segment.file.path, reason: "found index \(header.index), expected \(want)")
                    }
                    if !result.isEmpty && bytes + header.size > maxBytes { return result }
                    result.append(
                        LogEntry(
                            term: header.term,
                            index: header.index,
                            kind: header.kind,
                            timestampMillis: header.timestampMillis,
                            payload: cursor.lastPayload(header)
                        )
                    )
                    bytes += header.size
                    want = want.next
                    if result.count >= maxCount || want > view.lastIndex { return result }
                }
            }
            position += 1
        }
        return result
    }

    /// The entry at `index`, or nil outside `firstIndex...lastIndex`.
    public func entry(at index: LogIndex) throws(StorageError) -> LogEntry? {
        let view = readView()
        guard index >= view.logStart, index <= view.lastIndex else { return nil }
        return try entries(from: index, maxCount: 1, maxBytes: 0).first
    }

    /// The term of the entry at `index`; also answers for `firstIndex - 1` (the term recorded at trimming),
    /// and `.zero` for index 0. Nil for any other index outside the log.
    public func term(at index: LogIndex) throws(StorageError) -> Term? {
        let view = readView()
        if index == .zero { return .zero }
        if index == view.logStart.previous { return view.termBeforeStart }
        guard index >= view.logStart, index <= view.lastIndex else { return nil }
        let segment = view.segments[view.segmentPosition(holding: index)]
        if index == segment.lastIndex { return segment.lastTerm }
        return try entries(from: index, maxCount: 1, maxBytes: 0).first?.term
    }

    /// The first index whose running-maximum stamp (the largest `timestampMillis` at or before it) is at least
    /// `millis`: Kinesis `AT_TIMESTAMP`. Returns `firstIndex` if that point has been trimmed, nil if no entry
    /// reaches `millis`.
    public func firstIndex(atOrAfterTimestamp millis: Int64) throws(StorageError) -> LogIndex? {
        let view = readView()
        guard view.lastIndex >= view.logStart else { return nil }
        // Segments' running maxima never decrease, so the first segment reaching `millis` holds the answer.
        guard let segment = view.segments.first(where: { !$0.isEmpty && $0.maxTimestamp >= millis }) else {
            return nil
        }
        let records = segment.index.records
        let reaching = segment.index.firstReaching(millis)
        let found: LogIndex
        if reaching == 0, let first = records.first {
            found = first.index
        } else {
            // The answer lies after the record before `reaching`, whose running maximum is still below `millis`.
            let from = reaching > 0 ? records[reaching - 1] : nil
            var cursor = FrameCursor(
                file: segment.file,
                from: from?.position ?? Segment.headerSize,
                to: segment.size,
                chunkSize: 64 << 10
            )
            var runningMax = from?.runningMaxTimestamp ?? Int64.min
            var answer: LogIndex?
            scan: while true {
                switch try cursor.next() {
                case .end:
                    break scan
                case .invalid(let reason, let at):
                    throw .corrupt(path: segment.file.path, reason: "\(reason) at byte \(at)")
                case .frame(let header, _):
                    runningMax = max(runningMax, header.timestampMillis)
                    if runningMax >= millis {
                        answer = header.index
                        break scan
                    }
                }
            }
            // The segment's maximum said some entry reaches `millis`; not finding one means the file disagrees.
            guard let answer else {
                throw .corrupt(path: segment.file.path, reason: "no entry reaches the segment's maximum stamp")
            }
            found = answer
        }
        return max(found, view.logStart)
    }
}
