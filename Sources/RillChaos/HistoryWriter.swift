import Foundation
import Synchronization

/// Appends history events to a file, one JSON line each (format: `History`), from any thread or task.
///
/// Lines are written whole under a lock, so concurrent workers never interleave inside a line, and without
/// buffering in the process, so a harness that crashes loses at most the line it was writing.
public final class HistoryWriter: Sendable {
    private struct State {
        let handle: FileHandle
        let encoder = History.lineEncoder()
        var closed = false
    }
    private let state: Mutex<State>

    /// Writes to `handle` from its current offset; the writer closes it in `close()`.
    public init(handle: FileHandle) {
        state = Mutex(State(handle: handle))
    }

    /// Creates (or truncates) the file at `url` and writes there.
    public convenience init(creatingFileAt url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        self.init(handle: try FileHandle(forWritingTo: url))
    }

    /// Appends one event as one line.
    public func append(_ event: HistoryEvent) throws {
        try append(contentsOf: [event])
    }

    /// Appends events as consecutive lines, with no other writer's lines between them.
    public func append(contentsOf events: [HistoryEvent]) throws {
        try state.withLock { state in
            precondition(!state.closed, "HistoryWriter used after close()")
            var data = Data()
            for event in events {
                data.append(try state.encoder.encode(event))
                data.append(0x0A)
            }
            try state.handle.write(contentsOf: data)
        }
    }

    /// Flushes to disk and closes the file; later appends are a programming error.
    public func close() throws {
        try state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            try state.handle.synchronize()
            try state.handle.close()
        }
    }
}
