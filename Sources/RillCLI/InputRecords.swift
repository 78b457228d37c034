import Foundation
import Synchronization

/// One record as read from the input, before it gets a key.
struct InputRecord: Sendable {
    var data: [UInt8]
    /// The file as named on the command line, `-` for stdin.
    var file: String
    /// Its line in that file from 1 (1 with `--whole-file`).
    var lineNumber: Int
}

/// Reads `rill put`'s input: each file (or stdin) in turn, one record per line (the newline dropped; a last
/// line without one still counts) or one per file. Blocking reads: call it from a thread pool, one read at a time.
///
/// `@unchecked Sendable`: its state (all but the atomic `stopped`) is touched only by `next`, and the runner awaits each `next` before it starts
/// another, so no two threads ever use it at once.
final class InputRecords: @unchecked Sendable {
    enum Mode: Sendable { case lines, wholeFile }

    private let files: [String]
    private let mode: Mode
    private var fileIndex = 0
    private var descriptor: Int32 = -1
    private var buffer: [UInt8] = []
    /// Where the unread part of `buffer` starts.
    private var position = 0
    private var lineNumber = 0
    private var atEndOfFile = false
    /// Set by `stop`, from any thread: a read waiting on a quiet pipe gives up within `pollMillis`.
    private let stopped = Atomic<Bool>(false)
    private static let pollMillis: Int32 = 200

    /// Makes a blocked or later `next` throw instead of waiting for input nobody will send.
    func stop() { stopped.store(true, ordering: .relaxed) }

    /// A record this long is kept whole but can never be sent; reading stops growing it here.
    static let maxRecordBytes = 1 << 20

    init(files: [String], mode: Mode) {
        self.files = files.isEmpty ? ["-"] : files
        self.mode = mode
    }

    deinit { if descriptor > STDERR_FILENO { close(descriptor) } }

    /// Up to `maxRecords` records or about `maxBytes` of them; empty only at the end of the input.
    func next(maxRecords: Int, maxBytes: Int) throws -> [InputRecord] {
        var records: [InputRecord] = []
        var bytes = 0
        while records.count < maxRecords && bytes < maxBytes {
            // Once some records are here, hand them over rather than wait on a slow pipe for more.
            guard let record = try nextRecord(mayBlock: records.isEmpty) else { break }
            bytes += record.data.count
            records.append(record)
        }
        return records
    }

    private var fileName: String { files[fileIndex] }

    private func nextRecord(mayBlock: Bool) throws -> InputRecord? {
        while fileIndex < files.count {
            if descriptor < 0 { try open() }
            if let record = try recordFromCurrentFile(mayBlock: mayBlock) { return record }
            if !atEndOfFile { return nil }
            closeCurrent()
            fileIndex += 1
        }
        return nil
    }

    private func open() throws {
        buffer = []
        position = 0
        lineNumber = 0
        atEndOfFile = false
        if fileName == "-" {
            descriptor = STDIN_FILENO
            return
        }
        descriptor = Foundation.open(fileName, O_RDONLY)
        guard descriptor >= 0 else { throw ToolFailure("cannot open \(fileName): \(String(cString: strerror(errno)))") }
    }

    private func closeCurrent() {
        if descriptor > STDERR_FILENO { close(descriptor) }
        descriptor = -1
    }

    /// The next record of the current file; nil at its end, or (with `atEndOfFile` false) when it would block.
    private func recordFromCurrentFile(mayBlock: Bool) throws -> InputRecord? {
        switch mode {
        case .wholeFile:
            guard lineNumber == 0 else {
                atEndOfFile = true
                return nil
            }
            while !atEndOfFile && buffer.count <= Self.maxRecordBytes { try fill() }
            lineNumber = 1
            return InputRecord(data: buffer, file: fileName, lineNumber: 1)
        case .lines:
            var searched = position
            while true {
                if let newline = buffer[searched...].firstIndex(of: 0x0A) {
                    let line = Array(buffer[position..<newline])
                    position = newline + 1
                    lineNumber += 1
                    return InputRecord(data: line, file: fileName, lineNumber: lineNumber)
                }
                if atEndOfFile {
                    guard position < buffer.count else { return nil }
                    let line = Array(buffer[position...])
                    position = buffer.count
                    lineNumber += 1
                    return InputRecord(data: line, file: fileName, lineNumber: lineNumber)
                }
                // A line longer than any record can be is not kept growing without bound.
                if buffer.count - position > Self.maxRecordBytes + 1 {
                    throw ToolFailure("\(fileName) line \(lineNumber + 1) is longer than 1 MiB, Kinesis' record limit")
                }
                guard mayBlock else { return nil }
                searched = buffer.count
                if position > 0 {
                    buffer.removeFirst(position)
                    searched -= position
                    position = 0
                }
                try fill()
            }
        }
    }

    private func fill() throws {
        var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&waiting, 1, Self.pollMillis)
            // Ready, or an error that the read below reports.
            if ready > 0 || (ready < 0 && errno != EINTR) { break }
            if stopped.load(ordering: .relaxed) { throw ToolFailure("input reading stopped") }
        }
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { return }
            throw ToolFailure("reading \(fileName): \(String(cString: strerror(errno)))")
        }
        if count == 0 {
            atEndOfFile = true
        } else {
            buffer.append(contentsOf: chunk[..<count])
        }
    }
}
