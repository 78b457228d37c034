import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor with blocking positional I/O. The descriptor closes when the last reference goes,
/// so a reader that took a reference under the log's lock can keep using it after the segment is deleted.
///
/// `Sendable`: both stored properties are immutable, and pread/pwrite/fdatasync on one descriptor are safe to
/// issue from several threads at once; `unsynced` has its own lock.
final class PosixFile: StorageFile {
    let descriptor: Int32
    let path: String
    /// Present only when `StorageFaults` hooks were on at open (chaos testing).
    private let unsynced: UnsyncedBuffer?

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
        self.unsynced = StorageFaults.hooksEnabled ? UnsyncedBuffer() : nil
    }

    deinit { close(descriptor) }

    /// Opens `path` read-write; `create` adds `O_CREAT | O_EXCL` so an existing file is never reused by accident.
    static func open(path: String, create: Bool = false, truncate: Bool = false) throws(StorageError) -> PosixFile {
        var flags = O_RDWR | O_CLOEXEC
        if create { flags |= O_CREAT | (truncate ? O_TRUNC : O_EXCL) }
        let descriptor = retryingOnInterrupt { systemOpen(path, flags, 0o644) }
        guard descriptor >= 0 else { throw .io(operation: "open", path: path, errno: errno) }
        return PosixFile(descriptor: descriptor, path: path)
    }

    /// Writes all of `bytes` at `offset`, looping over short writes.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(StorageError) {
        if let unsynced, try unsynced.hold(bytes, at: offset, in: self) { return }
        try writeToFile(bytes, at: offset)
    }

    fileprivate func writeToFile(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            guard let base = bytes.baseAddress else { return }
            let written = pwrite(descriptor, base + done, bytes.count - done, off_t(offset) + off_t(done))
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "pwrite", path: path, errno: errno)
            }
            done += written
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    func read(count: Int, at offset: Int64) throws(StorageError) -> [UInt8] {
        if let unsynced, let bytes = try unsynced.read(count: count, at: offset, in: self) { return bytes }
        return try readFromFile(count: count, at: offset)
    }

    fileprivate func readFromFile(count: Int, at offset: Int64) throws(StorageError) -> [UInt8] {
        guard count > 0 else { return [] }
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            guard let base = buffer.baseAddress else { return }
            while initialized < count {
                let got = pread(descriptor, base + initialized, count - initialized, off_t(offset) + off_t(initialized))
                if got < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if got == 0 { return }
                initialized += got
            }
        }
        if failure != 0 { throw .io(operation: "pread", path: path, errno: failure) }
        return bytes
    }

    /// The current length of the file.
    func size() throws(StorageError) -> Int64 {
        if let unsynced, let size = unsynced.size() { return size }
        return try sizeOnDisk()
    }

    fileprivate func sizeOnDisk() throws(StorageError) -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io(operation: "fstat", path: path, errno: errno) }
        return Int64(info.st_size)
    }

    func truncate(to length: Int64) throws(StorageError) {
        if let unsynced, try unsynced.truncate(to: length, in: self) { return }
        try truncateOnDisk(to: length)
    }

    fileprivate func truncateOnDisk(to length: Int64) throws(StorageError) {
        guard retryingOnInterrupt({ ftruncate(descriptor, off_t(length)) }) == 0 else {
            throw .io(operation: "ftruncate", path: path, errno: errno)
        }
    }

    /// Flushes the file's data (and the size, which fdatasync includes) to stable storage.
    func sync() throws(StorageError) {
        try unsynced?.writeOut(to: self)
        #if canImport(Darwin)
        let result = fcntl(descriptor, F_FULLFSYNC)
        #else
        let result = fdatasync(descriptor)
        #endif
        // No retry on failure, EINTR included: after a failed fsync the page cache state is unknown
        // (ARCHITECTURE "An fsync error is fatal").
        guard result == 0 else { throw .io(operation: "fdatasync", path: path, errno: errno) }
    }
}

/// A file's `UnsyncedWrites` behind a lock: reads, writes and syncs of one file come from several threads.
private final class UnsyncedBuffer: Sendable {
    private let state = Mutex(UnsyncedWrites())

    /// Keeps the write in memory when writes are being held (or some already are, so later ones stay in
    /// order behind them); false when it should go to the file.
    func hold(_ bytes: UnsafeRawBufferPointer, at offset: Int64, in file: PosixFile) throws(StorageError) -> Bool {
        try state.withLock { (held) throws(StorageError) -> Bool in
            guard StorageFaults.loseUnsyncedWrites || !held.isEmpty else { return false }
            if held.isEmpty { held.begin(fileSize: try file.sizeOnDisk()) }
            held.hold(bytes, at: offset)
            return true
        }
    }

    /// The file as the process sees it, or nil when nothing is held.
    func read(count: Int, at offset: Int64, in file: PosixFile) throws(StorageError) -> [UInt8]? {
        try state.withLock { (held) throws(StorageError) -> [UInt8]? in
            guard !held.isEmpty else { return nil }
            return held.overlay(try file.readFromFile(count: count, at: offset), count: count, at: offset)
        }
    }

    func size() -> Int64? {
        state.withLock { $0.isEmpty ? nil : $0.size }
    }

    /// Cuts the held writes and the file on disk; false when nothing is held (the caller cuts the file).
    func truncate(to length: Int64, in file: PosixFile) throws(StorageError) -> Bool {
        try state.withLock { (held) throws(StorageError) -> Bool in
            guard !held.isEmpty else { return false }
            held.truncate(to: length)
            if try file.sizeOnDisk() > length { try file.truncateOnDisk(to: length) }
            return true
        }
    }

    /// Writes what is held to the file, under the lock so no read falls between taking and writing.
    func writeOut(to file: PosixFile) throws(StorageError) {
        try state.withLock { (held) throws(StorageError) in
            guard !held.isEmpty else { return }
            let (chunks, size) = held.take()
            for chunk in chunks {
                try chunk.bytes.withBytes { (raw) throws(StorageError) in try file.writeToFile(raw, at: chunk.offset) }
            }
            if try file.sizeOnDisk() < size { try file.truncateOnDisk(to: size) }
        }
    }
}

/// The libc `open`, named apart from `PosixFile.open`.
func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    #if canImport(Glibc)
    return Glibc.open(path, flags, mode)
    #else
    return Darwin.open(path, flags, mode)
    #endif
}

func retryingOnInterrupt(_ call: () -> Int32) -> Int32 {
    while true {
        let result = call()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}
