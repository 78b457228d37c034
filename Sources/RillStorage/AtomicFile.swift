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
