/// Small files replaced whole and atomically: write a temporary file, fsync it, rename it over the target,
/// fsync the directory. A reader after a crash sees either the old content or the new, never a mix.
public enum AtomicFile {
    /// Replaces the file at `path` with `bytes`, durably, before returning.
    public static func write(
        path: String,
        bytes: [UInt8],
        fileSystem: any FileSystem = PosixFileSystem()
    ) throws(StorageError) {
        let temporary = path + ".tmp"
        let file = try fileSystem.open(path: temporary, create: true, truncate: true)
        try file.write(bytes, at: 0)
        try file.sync()
        try fileSystem.rename(temporary, to: path)
        try fileSystem.syncDirectory(fileSystem.parentDirectory(of: path))
    }

    /// The whole content of the file at `path`, or nil when there is no such file.
    public static func read(
        path: String,
        fileSystem: any FileSystem = PosixFileSystem()
    ) throws(StorageError) -> [UInt8]? {
        guard fileSystem.exists(path) else { return nil }
        let file = try fileSystem.open(path: path)
        let size = try file.size()
        return try file.read(count: Int(size), at: 0)
    }
}

/// Whole directories moved durably.
public enum DurableDirectory {
    /// Moves the directory at `path` to `destination` (its parent made if missing) and fsyncs both parents,
    /// so the move survives a crash before anything that depends on it happens (ARCHITECTURE.md, rule).
    public static func move(
        _ path: String,
        to destination: String,
        fileSystem: any FileSystem = PosixFileSystem()
    )
        throws(StorageError)
    {
        let parent = fileSystem.parentDirectory(of: destination)
        try fileSystem.makeDirectories(parent)
        try fileSystem.rename(path, to: destination)
        try fileSystem.syncDirectory(parent)
        try fileSystem.syncDirectory(fileSystem.parentDirectory(of: path))
    }

    /// Makes `path` and its missing parents, durably.
    public static func make(_ path: String, fileSystem: any FileSystem = PosixFileSystem()) throws(StorageError) {
        try fileSystem.makeDirectories(path)
    }
}
