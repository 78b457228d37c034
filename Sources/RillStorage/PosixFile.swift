#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor with blocking positional I/O. The descriptor closes when the last reference goes,
/// so a reader that took a reference under the log's lock can keep using it after the segment is deleted.
///
/// `Sendable`: both stored properties are immutable, and pread/pwrite/fdatasync on one descriptor are safe to
/// issue from several threads at once.
final class PosixFile: Sendable {
    let descriptor: Int32
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
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

    func write(_ bytes: [UInt8], at offset: Int64) throws(StorageError) {
        try bytes.withBytes { (raw) throws(StorageError) in try write(raw, at: offset) }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    func read(count: Int, at offset: Int64) throws(StorageError) -> [UInt8] {
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
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .io(operation: "fstat", path: path, errno: errno) }
        return Int64(info.st_size)
    }

    func truncate(to length: Int64) throws(StorageError) {
        guard retryingOnInterrupt({ ftruncate(descriptor, off_t(length)) }) == 0 else {
            throw .io(operation: "ftruncate", path: path, errno: errno)
        }
    }

    /// Flushes the file's data (and the size, which fdatasync includes) to stable storage.
    func sync() throws(StorageError) {
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

/// The libc `open`, named apart from `PosixFile.open`.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
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
