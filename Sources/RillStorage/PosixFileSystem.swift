#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real file system, as blocking POSIX calls: what every node runs on.
public struct PosixFileSystem: FileSystem {
    public init() {}

    public func open(path: String, create: Bool, truncate: Bool) throws(StorageError) -> any StorageFile {
        try PosixFile.open(path: path, create: create, truncate: truncate)
    }

    /// Creates `path` and any missing parents, fsyncing each parent that gained an entry so the new
    /// directory survives a crash (ARCHITECTURE: directory fsync after create).
    public func makeDirectories(_ path: String) throws(StorageError) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw .io(operation: "mkdir", path: path, errno: ENOTDIR) }
            return
        }
        let parent = parentDirectory(of: path)
        if parent != path { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw .io(operation: "mkdir", path: path, errno: errno) }
        try syncDirectory(parent)
    }

    /// fsyncs a directory so creates, renames and deletes in it are durable.
    public func syncDirectory(_ path: String) throws(StorageError) {
        let descriptor = retryingOnInterrupt { systemOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) }
        guard descriptor >= 0 else { throw .io(operation: "open directory", path: path, errno: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .io(operation: "fsync directory", path: path, errno: errno) }
    }

    public func contents(of path: String) throws(StorageError) -> [String] {
        guard let directory = opendir(path) else { throw .io(operation: "opendir", path: path, errno: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func remove(_ path: String) throws(StorageError) {
        if unlink(path) != 0 && errno != ENOENT { throw .io(operation: "unlink", path: path, errno: errno) }
    }

    public func rename(_ from: String, to: String) throws(StorageError) {
        #if canImport(Glibc)
        let result = Glibc.rename(from, to)
        #else
        let result = Darwin.rename(from, to)
        #endif
        guard result == 0 else { throw .io(operation: "rename", path: to, errno: errno) }
    }

    public func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }
}
