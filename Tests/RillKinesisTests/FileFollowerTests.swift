import RillKinesis
import RillModel
import Testing

/// `FileFollower` against an in-memory folder: files are byte arrays with an inode, renamed, copied and truncated
/// as logrotate does, and every record read is collected to check nothing is lost or read twice.
@Suite struct FileFollowerTests {
    private struct Folder {
        var files: [String: (inode: UInt64, bytes: [UInt8], modified: Int64)] = [:]
        var nextInode: UInt64 = 1
        var time: Int64 = 0

        mutating func append(_ name: String, _ text: String) {
            time += 1
            if files[name] == nil {
                files[name] = (nextInode, [], time)
                nextInode += 1
            }
            files[name]?.bytes += Array(text.utf8)
            files[name]?.modified = time
        }

        mutating func rename(_ from: String, _ to: String) { files[to] = files.removeValue(forKey: from) }

        mutating func copyTruncate(_ name: String, to copy: String) {
            time += 1
            files[copy] = (nextInode, files[name]?.bytes ?? [], time)
            nextInode += 1
            time += 1
            files[name]?.bytes = []
            files[name]?.modified = time
        }

        /// `app.log*` when `wildcard`, else exactly `app.log`.
        var wildcard = false
        /// Names a poll does not list: made after the shell listed the folder, before it opened the files.
        var unlisted: Set<String> = []

        func observed(pattern: String) -> [ObservedFile] {
            files.filter { !unlisted.contains($0.key) }.map { name, file in
                ObservedFile(
                    path: "/logs/" + name,
                    identity: FileIdentity(device: 1, inode: file.inode),
                    size: Int64(file.bytes.count),
                    modifiedNanos: file.modified,
                    matchesPattern: wildcard ? name.hasPrefix(pattern) : name == pattern,
                    head: Array(file.bytes.prefix(FileFollower.headBytes))
                )
            }
        }

        func read(_ read: FileFollower.Read) -> [UInt8]? {
            guard let file = files.values.first(where: { $0.inode == read.identity.inode }) else { return nil }
            return Array(file.bytes[Int(read.from)..<min(Int(read.to), file.bytes.count)])
        }
    }

    /// Polls once: observes, reads everything planned, acknowledges it all when `acknowledge`.
    @discardableResult
    private func poll(
        _ follower: inout FileFollower,
        _ folder: Folder,
        into lines: inout [String],
        acknowledge: Bool = true,
        random: inout SplitMix64
    ) -> [FileFollower.Event] {
        let (reads, events) = follower.observe(folder.observed(pattern: "app.log"), random: &random)
        for read in reads {
            guard let bytes = folder.read(read) else { continue }
            let got = follower.didRead(
                producerID: read.producerID,
                bytes: bytes,
                from: read.from,
                maxLineBytes: 1 << 20
            )
            lines += got.map { String(decoding: $0.data, as: UTF8.self) }
            if acknowledge, let last = got.last {
                follower.acknowledged(producerID: last.producerID, through: last.endOffset, nextLine: last.sequence + 1)
            }
        }
        return events
    }

    @Test("rename and create: the old file is read to its end under its new name, then the new one from 0")
    func renameAndCreate() {
        var random = SplitMix64(seed: 1)
        var folder = Folder()
        var follower = FileFollower(checkpoint: [], initialPosition: .startOfFile)
        var lines: [String] = []
        folder.append("app.log", "1\n2\n")
        poll(&follower, folder, into: &lines, random: &random)
        folder.append("app.log", "3\n")
        folder.rename("app.log", "app.log.1")
        folder.append("app.log", "4\n")
        let events = poll(&follower, folder, into: &lines, random: &random)
        #expect(events.contains(.rotated(from: "/logs/app.log.1", to: "/logs/app.log")))
        folder.append("app.log", "5\n")
        poll(&follower, folder, into: &lines, random: &random)
        #expect(lines == ["1\n", "2\n", "3\n", "4\n", "5\n"])
        #expect(follower.files.count == 1, "the rotated file retires once read and acknowledged")
    }

    @Test("copytruncate: lines copied before they were read come from the copy, then the file from 0")
    func copyTruncate() {
        var random = SplitMix64(seed: 2)
        var folder = Folder()
        var follower = FileFollower(checkpoint: [], initialPosition: .startOfFile)
        var lines: [String] = []
        folder.append("app.log", "line 1\n")
        poll(&follower, folder, into: &lines, random: &random)
        let first = follower.files[0].producerID
        folder.append("app.log", "line 2\n")
        folder.copyTruncate("app.log", to: "app.log.1")
        // Regrown past the old read position: only the fingerprint tells it was truncated.
        folder.append("app.log", "new generation line 3\n")
        let events = poll(&follower, folder, into: &lines, random: &random)
        #expect(events.contains(.truncated(path: "/logs/app.log", copy: "/logs/app.log.1")))
        #expect(lines == ["line 1\n", "line 2\n", "new generation line 3\n"])
        #expect(follower.files.count == 1 && follower.files[0].producerID != first, "a new generation, a new producer")
    }

    @Test("a restart from the checkpoint rereads what was not acknowledged, with the same producer and numbers")
    func restart() {
        var random = SplitMix64(seed: 3)
        var folder = Folder()
        var follower = FileFollower(checkpoint: [], initialPosition: .startOfFile)
        var lines: [String] = []
        folder.append("app.log", "a\nb\n")
        poll(&follower, folder, into: &lines, random: &random)
        folder.append("app.log", "c\nd\n")
        let (reads, _) = follower.observe(folder.observed(pattern: "app.log"), random: &random)
        let sent = follower.didRead(
            producerID: reads[0].producerID,
            bytes: folder.read(reads[0]) ?? [],
            from: reads[0].from,
            maxLineBytes: 100
        )
        // Crash before the acknowledgement: the checkpoint still ends after "b".
        var restarted = FileFollower(checkpoint: follower.checkpoint, initialPosition: .endOfFile)
        let (again, _) = restarted.observe(folder.observed(pattern: "app.log"), random: &random)
        let resent = restarted.didRead(
            producerID: again[0].producerID,
            bytes: folder.read(again[0]) ?? [],
            from: again[0].from,
            maxLineBytes: 100
        )
        #expect(resent == sent, "same data, producer id and sequences: the stream deduplicates the resend")
        #expect(resent.map(\.sequence) == [2, 3])
    }

    @Test("END_OF_FILE applies to the very first file only")
    func initialPosition() {
        var random = SplitMix64(seed: 4)
        var folder = Folder()
        folder.append("app.log", "old\n")
        var follower = FileFollower(checkpoint: [], initialPosition: .endOfFile)
        var lines: [String] = []
        poll(&follower, folder, into: &lines, random: &random)
        folder.append("app.log", "new\n")
        folder.rename("app.log", "app.log.1")
        folder.append("app.log", "next\n")
        poll(&follower, folder, into: &lines, random: &random)
        #expect(lines == ["new\n", "next\n"])
    }

    @Test("with app.log* the rotated names match too, and still neither is read twice", arguments: [false, true])
    func wildcardPattern(copyTruncate: Bool) {
        var random = SplitMix64(seed: 7)
        var folder = Folder()
        folder.wildcard = true
        var follower = FileFollower(checkpoint: [], initialPosition: .startOfFile)
        var lines: [String] = []
        folder.append("app.log", "1\n")
        poll(&follower, folder, into: &lines, random: &random)
        folder.append("app.log", "2\n")
        if copyTruncate {
            folder.copyTruncate("app.log", to: "app.log.1")
        } else {
            folder.rename("app.log", "app.log.1")
        }
        poll(&follower, folder, into: &lines, random: &random)
        folder.append("app.log", "3\n")
        poll(&follower, folder, into: &lines, random: &random)
        folder.append("app.log", "4\n")
        poll(&follower, folder, into: &lines, random: &random)
        #expect(lines == ["1\n", "2\n", "3\n", "4\n"])
    }

    @Test("a file deleted before it was read to the end is reported lost")
    func deleted() {
        var random = SplitMix64(seed: 5)
        var folder = Folder()
        var follower = FileFollower(checkpoint: [], initialPosition: .startOfFile)
        var lines: [String] = []
        folder.append("app.log", "a\n")
        poll(&follower, folder, into: &lines, random: &random)
        folder.files["app.log"] = nil
        folder.append("app.log", "b\n")
        #expect(poll(&follower, folder, into: &lines, random: &random).isEmpty, "judged on the next poll")
        let events = poll(&follower, folder, into: &lines, random: &random)
        #expect(events.contains(.lost(path: "/logs/app.log", bytes: nil)))
        #expect(lines == ["a\n", "b\n"])
    }

    /// The shell lists the folder, then opens each file: a rotation in between shows the followed file changed
    /// while its copy or new name is not listed yet. Nothing is decided until a poll lists them.
    @Test("a rotation that one poll sees only half of loses nothing", arguments: [false, true])
    func rotationBetweenListingAndOpening(copyTruncate: Bool) {
        var random = SplitMix64(seed: 6)
        var folder = Folder()
        var follower = FileFollower(checkpoint: [], initialPosition: .startOfFile)
        var lines: [String] = []
        folder.append("app.log", "line 1\n")
        poll(&follower, folder, into: &lines, random: &random)
        folder.append("app.log", "line 2\nline 3\n")
        if copyTruncate {
            folder.copyTruncate("app.log", to: "app.log.1")
        } else {
            folder.rename("app.log", "app.log.1")
        }
        folder.append("app.log", "new line 4\n")
        folder.unlisted = ["app.log.1"]
        let early = poll(&follower, folder, into: &lines, random: &random)
        #expect(early.isEmpty && lines == ["line 1\n"], "nothing decided or read from a half-seen rotation")
        folder.unlisted = []
        let events = poll(&follower, folder, into: &lines, random: &random)
        #expect(!events.contains { if case .lost = $0 { true } else { false } }, "\(events)")
        #expect(lines == ["line 1\n", "line 2\n", "line 3\n", "new line 4\n"])
    }

    @Test("a file truncated with no copy beside it is read from 0 on the next poll, its unread tail lost")
    func truncatedWithoutCopy() {
        var random = SplitMix64(seed: 7)
        var folder = Folder()
        var follower = FileFollower(checkpoint: [], initialPosition: .startOfFile)
        var lines: [String] = []
        folder.append("app.log", "old 1\n")
        poll(&follower, folder, into: &lines, random: &random)
        folder.files["app.log"]?.bytes = []
        folder.append("app.log", "a much longer new line 1\n")
        #expect(poll(&follower, folder, into: &lines, random: &random).isEmpty, "judged on the next poll")
        let events = poll(&follower, folder, into: &lines, random: &random)
        #expect(events.contains(.truncated(path: "/logs/app.log", copy: nil)))
        #expect(lines == ["old 1\n", "a much longer new line 1\n"])
    }

    @Test("the checkpoint round-trips through its JSON")
    func checkpointJSON() throws {
        var random = SplitMix64(seed: 6)
        var folder = Folder()
        var follower = FileFollower(checkpoint: [], initialPosition: .startOfFile)
        var lines: [String] = []
        folder.append("app.log", "a\nb\n")
        poll(&follower, folder, into: &lines, random: &random)
        var checkpoint = AgentCheckpoint()
        checkpoint.flows["s /logs/app.log"] = follower.checkpoint
        let decoded = try AgentCheckpoint.decode(try checkpoint.encoded())
        #expect(decoded == checkpoint)
        #expect(decoded.flows["s /logs/app.log"]?[0].ackedOffset == 4)
    }
}
