/// Small files replaced whole and atomically: write a temporary file, fsync it, rename it over the target,
/// fsync the directory. A reader after a crash sees either the old content or the new, never a mix.
public enum AtomicFile {
    /// Replaces the file at `path` with `bytes`, durably, before returning.
    public static func write(path: String, bytes: [UInt8]) throws(StorageError) {
        let temporary = path + ".tmp"
        let file = try PosixFile.open(path: temporary, create: true, truncate: true)
        try file.write(bytes, at: 0)
        try file.sync()
        try FileSystem.rename(temporary, to: path)
        try FileSystem.syncDirectory(FileSystem.parentDirectory(of: path))
    }

    /// The whole content of the file at `path`, or nil when there is no such file.
    public static func read(path: String) throws(StorageError) -> [UInt8]? {
        guard FileSystem.exists(path) else { return nil }
        let file = try PosixFile.open(path: path)
        let size = try file.size()
        return try file.read(count: Int(size), at: 0)
    }
}

/// Whole directories moved durably.
public enum DurableDirectory {
    /// Moves the directory at `path` to `destination` (its parent made if missing) and fsyncs both parents,
    /// so the move survives a crash before anything that depends on it happens (ARCHITECTURE.md, rule).
    public static func move(_ path: String, to destination: String) throws(StorageError) {
        let parent = FileSystem.parentDirectory(of: destination)
        try FileSystem.makeDirectories(parent)
        try FileSystem.rename(path, to: destination)
        try FileSystem.syncDirectory(parent)
        try FileSystem.syncDirectory(FileSystem.parentDirectory(of: path))
    }

    /// Makes `path` and its missing parents, durably.
    public static func make(_ path: String) throws(StorageError) {
        try FileSystem.makeDirectories(path)
    }
}
