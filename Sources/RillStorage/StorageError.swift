import RillModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything that can go wrong in storage, as a small enum naming the situation (tikv/raft-rs `errors.rs`).
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed; `errno` is the raw POSIX error number.
    case io(operation: String, path: String, errno: Int32)
    /// File content failed validation (bad CRC, bad header, out-of-sequence index).
    case corrupt(path: String, reason: String)
    /// The requested index lies below the log start: trimmed away (etcd `ErrCompacted`).
    case compacted(requested: LogIndex, firstIndex: LogIndex)
    /// The flusher's thread pool is no longer running, so no sync round can cover the caller.
    case shutDown

    /// A readable message naming the operation, the file and the cause.
    public var description: String {
        switch self {
        case .io(let operation, let path, let errno):
            return "\(operation) failed on \(path): \(String(cString: strerror(errno))) (errno \(errno))"
        case .corrupt(let path, let reason):
            return "corrupt file \(path): \(reason)"
        case .compacted(let requested, let firstIndex):
            return "index \(requested) is below the log start \(firstIndex)"
        case .shutDown:
            return "storage thread pool is shut down"
        }
    }
}
