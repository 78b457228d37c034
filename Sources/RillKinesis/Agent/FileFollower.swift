/// Follows one flow's files through rotation, pure: the shell reports what it sees beside the pattern
/// (identity, size, first bytes) and the bytes it reads; the follower decides what to read next, cuts records
/// and numbers them, and keeps the offsets to checkpoint. No clock, no files.
///
/// Rotation, decided on each `observe` from device and inode, size and the fingerprint of the first bytes:
/// - **Rename and create** (logrotate's default): the followed inode no longer matches the pattern, or a newer
///   file that does is not a copy of it. The old inode is read to the end it has now (found by identity,
///   under whatever name it has), then retired; the new file is followed from byte 0.
/// - **Copytruncate**: the followed inode is shorter than the read position or no longer starts with the
///   bytes it started with. A file beside it that starts with those bytes and is at least as long is the copy:
///   the old generation is read on from the copy (same producer id, same numbering). The truncated inode starts
///   a new generation at byte 0. Lines written after the last read and before the copy exist only in the copy,
///   which is why the copy is read rather than skipped.
/// - **Deleted** before it was read to the end: what was left is lost, reported as an event.
///
/// A followed file that one poll cannot account for (missing, or truncated with no copy beside it) is judged on
/// the next poll only. The shell lists the folder before it opens each file, so a rotation between the two shows
/// the followed file truncated or renamed away while its copy or new name is not listed yet; deciding at once
/// took the unread tail for lost (the agent's rotation test lost 110 lines so, once in many runs). The next
/// listing is made after the change was seen, and logrotate makes the copy before it truncates.
///
/// The current file is the most recently modified file matching the pattern, as the Kinesis Agent picks it.
public struct FileFollower: Sendable {
    /// How much of each file's start is fingerprinted.
    public static let headBytes = 256

    /// Oldest first; the last one without `endOffset` is the file followed now.
    public private(set) var files: [FollowedFile]
    private let initialPosition: AgentConfiguration.InitialPosition
    /// No checkpoint knew this flow: `initialPosition` applies to the first file.
    private var neverStarted: Bool
    /// Followed files the last poll could not account for: not read, and judged on the next poll.
    private var unaccounted: Set<FileIdentity> = []

    /// A read the shell makes: open `path`, check it is still `identity`, read `from..<to`.
    public struct Read: Sendable, Equatable {
        public var producerID: String
        public var identity: FileIdentity
        public var path: String
        public var from: Int64
        public var to: Int64
    }

    /// What happened to the files, for the log.
    public enum Event: Sendable, Equatable {
        case started(path: String, offset: Int64)
        case rotated(from: String, to: String)
        case truncated(path: String, copy: String?)
        /// The file vanished with `bytes` of it (nil: an unknown amount) never read.
        case lost(path: String, bytes: Int64?)
    }

    /// One record cut from a file, numbered for the idempotent producer.
    public struct Line: Sendable, Equatable {
        public var producerID: String
        public var sequence: UInt64
        public var data: [UInt8]
        /// The offset just past it: acknowledged, it moves the checkpoint here.
        public var endOffset: Int64
    }

    public init(checkpoint: [FollowedFile], initialPosition: AgentConfiguration.InitialPosition) {
        self.files = checkpoint
        self.initialPosition = initialPosition
        self.neverStarted = checkpoint.isEmpty
    }

    /// What the checkpoint file holds for this flow.
    public var checkpoint: [FollowedFile] { files.map(\.persisted) }

    private var currentIndex: Int? { files.lastIndex { $0.endOffset == nil } }

    // MARK: - Events

    /// Takes one poll's view of the files beside the pattern; returns the reads to make, oldest file first.
    public mutating func observe(
        _ observed: [ObservedFile],
        random: inout some RandomNumberGenerator
    ) -> (reads: [Read], events: [Event]) {
        var events: [Event] = []
        let unaccountedBefore = unaccounted
        unaccounted = []
        // Files rotated away: follow them by identity wherever they were renamed.
        for index in files.indices where files[index].endOffset != nil {
            if let seen = observed.first(where: { $0.identity == files[index].identity }) {
                files[index].path = seen.path
            } else if let end = files[index].endOffset, files[index].readOffset < end {
                guard unaccountedBefore.contains(files[index].identity) else {
                    unaccounted.insert(files[index].identity)
                    continue
                }
                events.append(.lost(path: files[index].path, bytes: end - files[index].readOffset))
                files[index].endOffset = files[index].readOffset
            }
        }
        if let index = currentIndex {
            followCurrent(index, observed, judging: unaccountedBefore, &events, random: &random)
        } else if let newest = newestNew(observed, notCopyOf: nil) {
            let offset = neverStarted && initialPosition == .endOfFile ? newest.size : 0
            start(newest, offset: offset, &events, random: &random)
        }
        neverStarted = false
        retireFinished()
        var reads: [Read] = []
        for file in files where !unaccounted.contains(file.identity) {
            let end = file.endOffset ?? observed.first { $0.identity == file.identity }?.size ?? file.readOffset
            if end > file.readOffset {
                reads.append(
                    Read(
                        producerID: file.producerID,
                        identity: file.identity,
                        path: file.path,
                        from: file.readOffset,
                        to: end
                    )
                )
            }
        }
        return (reads, events)
    }

    /// Bytes read at `from` for the generation `producerID`: the complete lines become records.
    public mutating func didRead(producerID: String, bytes: [UInt8], from: Int64, maxLineBytes: Int) -> [Line] {
        guard let index = files.firstIndex(where: { $0.producerID == producerID }), files[index].readOffset == from
        else { return [] }
        let finished = files[index].endOffset.map { from + Int64(bytes.count) >= $0 } ?? false
        let (ranges, consumed) = LineSplitter.split(bytes, maxLineBytes: maxLineBytes, finished: finished)
        var lines: [Line] = []
        lines.reserveCapacity(ranges.count)
        for range in ranges {
            lines.append(
                Line(
                    producerID: producerID,
                    sequence: files[index].readLine,
                    data: Array(bytes[range]),
                    endOffset: from + Int64(range.upperBound)
                )
            )
            files[index].readLine += 1
        }
        files[index].readOffset = from + Int64(consumed)
        return lines
    }

    /// Records of `producerID` up to `offset` are acknowledged; `nextLine` is the sequence of the record there.
    public mutating func acknowledged(producerID: String, through offset: Int64, nextLine: UInt64) {
        guard let index = files.firstIndex(where: { $0.producerID == producerID }) else { return }
        if offset > files[index].ackedOffset {
            files[index].ackedOffset = offset
            files[index].ackedLine = nextLine
        }
        retireFinished()
    }

    // MARK: - Decisions

    /// `judging`: the files the previous poll could not account for; one still unaccounted for now is decided.
    private mutating func followCurrent(
        _ index: Int,
        _ observed: [ObservedFile],
        judging unaccountedBefore: Set<FileIdentity>,
        _ events: inout [Event],
        random: inout some RandomNumberGenerator
    ) {
        let current = files[index]
        let secondLook = unaccountedBefore.contains(current.identity)
        guard let seen = observed.first(where: { $0.identity == current.identity }) else {
            guard secondLook else {
                unaccounted.insert(current.identity)
                return
            }
            events.append(.lost(path: current.path, bytes: nil))
            files[index].endOffset = current.readOffset
            if let newest = newestNew(observed, notCopyOf: nil) { start(newest, offset: 0, &events, random: &random) }
            return
        }
        files[index].path = seen.path
        if seen.size < current.readOffset || !current.headMatches(seen.head) {
            // Truncated in place: the bytes not read yet, if any, are in a copy that starts as this file did.
            let copy = observed.first { candidate in
                current.headLength > 0 && candidate.identity != current.identity
                    && !files.contains { $0.identity == candidate.identity } && current.headMatches(candidate.head)
                    && candidate.size >= current.readOffset
            }
            if copy == nil && !secondLook {
                unaccounted.insert(current.identity)
                return
            }
            if let copy {
                files[index].identity = copy.identity
                files[index].path = copy.path
                files[index].endOffset = copy.size
            } else {
                files[index].endOffset = current.readOffset
            }
            events.append(.truncated(path: seen.path, copy: copy?.path))
            start(seen, offset: 0, &events, random: &random)
            return
        }
        files[index].extendHead(seen.head)
        let newer = newestNew(observed, notCopyOf: files[index])
        let replaced = newer.map { !seen.matchesPattern || $0.modifiedNanos > seen.modifiedNanos } ?? false
        if replaced, let newer {
            files[index].endOffset = seen.size
            events.append(.rotated(from: seen.path, to: newer.path))
            start(newer, offset: 0, &events, random: &random)
        }
    }

    /// The most recently modified file matching the pattern that is not followed yet and not a copy of `file`.
    private func newestNew(_ observed: [ObservedFile], notCopyOf file: FollowedFile?) -> ObservedFile? {
        observed.filter { candidate in
            candidate.matchesPattern && !files.contains { $0.identity == candidate.identity }
                && !(file.map { $0.headLength > 0 && $0.headMatches(candidate.head) } ?? false)
        }.max { ($0.modifiedNanos, $0.path) < ($1.modifiedNanos, $1.path) }
    }

    private mutating func start(
        _ file: ObservedFile,
        offset: Int64,
        _ events: inout [Event],
        random: inout some RandomNumberGenerator
    ) {
        files.append(
            FollowedFile(
                producerID: Self.producerID(random: &random),
                identity: file.identity,
                path: file.path,
                head: file.head,
                offset: offset
            )
        )
        events.append(.started(path: file.path, offset: offset))
    }

    private mutating func retireFinished() {
        files.removeAll { file in
            guard let end = file.endOffset else { return false }
            return file.readOffset >= end && file.ackedOffset >= file.readOffset
        }
    }

    /// A new producer id per file generation; kept in the checkpoint before any of its records is sent.
    static func producerID(random: inout some RandomNumberGenerator) -> String {
        let value = UInt64.random(in: 0...UInt64.max, using: &random)
        let digits = String(value, radix: 36)
        return "rill-agent-" + String(repeating: "0", count: max(0, 13 - digits.count)) + digits
    }
}
