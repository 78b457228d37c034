import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The destination folder of `rill archive`: puts an object in place durably, or not at all. An object is written
/// under a temporary name in `.rill-archive-tmp/` (same file system, outside the time folders), fsynced, renamed
/// into its folder, and the folder fsynced, so after a crash an object is either whole under its name or absent;
/// new folders are fsynced into their parents too. Blocking calls: the runner runs them on a thread pool.
struct ArchiveFolder: Sendable {
    let root: String
    /// This worker's mark in temporary names, so workers sharing a folder never write the same temporary file.
    let workerTag: String

    struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    static let stagingName = ".rill-archive-tmp"

    init(root: String, worker: String) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        self.workerTag = String(worker.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    private var staging: String { "\(root)/\(Self.stagingName)" }

    /// Makes the folders and removes temporary files an earlier run of this worker (same `--worker-id`) left when
    /// it was killed mid-write; returns how many.
    func prepare() throws(WriteError) -> Int {
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw WriteError(description: "cannot create \(root): \(error)")
        }
        try makeFolders("\(Self.stagingName)/")
        let suffix = ".\(workerTag).tmp"
        let leftovers: [String]
        do {
            leftovers = try FileManager.default.contentsOfDirectory(atPath: staging).filter { $0.hasSuffix(suffix) }
        } catch {
            throw WriteError(description: "cannot list \(staging): \(error)")
        }
        for name in leftovers where unlink("\(staging)/\(name)") != 0 && errno != ENOENT {
            throw failure("remove", "\(staging)/\(name)")
        }
        return leftovers.count
    }

    /// Writes `body` as `relativePath` (a folder under the root, then a name), replacing an object of that name.
    func put(_ relativePath: String, body: [UInt8]) throws(WriteError) {
        let slash = relativePath.lastIndex(of: "/")
        let folder = slash.map { String(relativePath[...$0]) } ?? ""
        let name = slash.map { String(relativePath[relativePath.index(after: $0)...]) } ?? relativePath
        try makeFolders(folder)
        let temporary = "\(staging)/\(name).\(workerTag).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("create", temporary) }
        guard StandardStream.write(body, to: descriptor) else {
            let error = failure("write", temporary)
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard fsync(descriptor) == 0 else {
            let error = failure("sync", temporary)
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        let target = "\(root)/\(relativePath)"
        guard rename(temporary, target) == 0 else {
            let error = failure("rename into", target)
            unlink(temporary)
            throw error
        }
        try syncFolder("\(root)/\(folder)")
    }

    /// Removes `relativePath` if it is there (a data object an earlier run left before its records went to the
    /// error output instead), durably.
    func remove(_ relativePath: String) throws(WriteError) {
        let target = "\(root)/\(relativePath)"
        if unlink(target) == 0 {
            let folder = relativePath.lastIndex(of: "/").map { String(relativePath[...$0]) } ?? ""
            try syncFolder("\(root)/\(folder)")
        } else if errno != ENOENT && errno != ENOTDIR {
            throw failure("remove", target)
        }
    }

    /// `mkdir -p` under the root, fsyncing each parent that gained a folder.
    private func makeFolders(_ relative: String) throws(WriteError) {
        var path = root
        if mkdir(path, 0o755) == 0 {
            try syncFolder((path as NSString).deletingLastPathComponent)
        } else if errno != EEXIST {
            throw failure("create folder", path)
        }
        for component in relative.split(separator: "/") {
            let parent = path
            path += "/\(component)"
            if mkdir(path, 0o755) == 0 {
                try syncFolder(parent)
            } else if errno != EEXIST {
                throw failure("create folder", path)
            }
        }
    }

    private func syncFolder(_ path: String) throws(WriteError) {
        let descriptor = open(path.isEmpty ? "." : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open folder", path) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("sync folder", path) }
    }

    private func failure(_ action: String, _ path: String) -> WriteError {
        WriteError(description: "cannot \(action) \(path): \(String(cString: strerror(errno)))")
    }
}
