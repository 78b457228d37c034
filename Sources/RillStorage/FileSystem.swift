/// The file operations storage performs: the seam that lets the simulation run the real `SegmentedLog` and
/// `RaftStateLog` over a simulated disk that loses unsynced writes on a crash and can fail an fsync
/// (RillTestKit `SimulatedFileSystem`). Production uses `PosixFileSystem`, whose calls are the same blocking
/// POSIX calls storage always made.
///
/// Existentials rather than a generic parameter: the hot path calls through them once per append batch (one
/// pwrite) and once per read chunk (one pread), next to which a witness-table call does not show.
public protocol FileSystem: Sendable {
    /// Opens `path` read-write; `create` creates it, failing if it exists unless `truncate` empties it.
    func open(path: String, create: Bool, truncate: Bool) throws(StorageError) -> any StorageFile
    /// Creates `path` and any missing parents, making each new directory durable in its parent.
    func makeDirectories(_ path: String) throws(StorageError)
    /// Makes creates, renames and deletes in a directory durable.
    func syncDirectory(_ path: String) throws(StorageError)
    /// The names in a directory, without `.` and `..`.
    func contents(of path: String) throws(StorageError) -> [String]
    /// Removes a file; a file that is already gone is not an error.
    func remove(_ path: String) throws(StorageError)
    /// Renames a file or directory, replacing the target.
    func rename(_ from: String, to: String) throws(StorageError)
    func exists(_ path: String) -> Bool
}

/// An open file with blocking positional I/O. A reference: a reader that took it under a log's lock may keep
/// using it after the file was deleted, as a POSIX descriptor allows.
public protocol StorageFile: AnyObject, Sendable {
    var path: String { get }
    /// Writes all of `bytes` at `offset` (to the page cache only: durable after `sync`).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(StorageError)
    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    func read(count: Int, at offset: Int64) throws(StorageError) -> [UInt8]
    /// The current length of the file.
    func size() throws(StorageError) -> Int64
    func truncate(to length: Int64) throws(StorageError)
    /// Makes the file's data and size durable (fdatasync). An error is fatal to the caller: never retried.
    func sync() throws(StorageError)
}

extension StorageFile {
    func write(_ bytes: [UInt8], at offset: Int64) throws(StorageError) {
        try bytes.withBytes { (raw) throws(StorageError) in try write(raw, at: offset) }
    }
}

extension FileSystem {
    /// Opens an existing file read-write.
    func open(path: String) throws(StorageError) -> any StorageFile {
        try open(path: path, create: false, truncate: false)
    }

    /// The directory holding `path` (`.` for a bare name).
    public func parentDirectory(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }
}
