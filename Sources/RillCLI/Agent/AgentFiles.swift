import Foundation
import RillKinesis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The agent's file I/O, blocking (callers run it on the thread pool): listing the files beside a pattern and
/// reading byte ranges of one file checked by identity.
enum AgentFiles {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Every regular file in the pattern's folder whose name starts as the pattern's does (so rotated names
    /// such as `app.log.1` or `app.log-20261206` are seen too), with whether it matches the pattern itself.
    static func observe(pattern: String) throws -> [ObservedFile] {
        let folder = (pattern as NSString).deletingLastPathComponent
        let namePattern = (pattern as NSString).lastPathComponent
        let prefix = String(namePattern.prefix { !"*?[".contains($0) })
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            // A folder that does not exist yet holds no files yet.
            if !FileManager.default.fileExists(atPath: folder) { return [] }
            throw Failure(description: "cannot list \(folder): \(error.localizedDescription)")
        }
        var files: [ObservedFile] = []
        for name in names.sorted() where name.hasPrefix(prefix) {
            let path = folder + "/" + name
            let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            // Gone between the listing and the open: the next poll sees what replaced it.
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            var info = stat()
            guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            var head = [UInt8](repeating: 0, count: FileFollower.headBytes)
            let count = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
            head.removeLast(head.count - max(0, count))
            files.append(
                ObservedFile(
                    path: path,
                    identity: FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)),
                    size: Int64(info.st_size),
                    modifiedNanos: modifiedNanos(info),
                    matchesPattern: fnmatch(namePattern, name, 0) == 0,
                    head: head
                )
            )
        }
        return files
    }

    private static func modifiedNanos(_ info: stat) -> Int64 {
        #if canImport(Darwin)
        Int64(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(info.st_mtimespec.tv_nsec)
        #else
        Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        #endif
    }

    /// Up to `count` bytes of `path` at `offset`, or nil when the path is no longer the file `identity`.
    static func read(path: String, identity: FileIdentity, offset: Int64, count: Int) throws -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, UInt64(info.st_dev) == identity.device,
            UInt64(info.st_ino) == identity.inode
        else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            filled += got
        }
        bytes.removeLast(count - filled)
        return bytes
    }
}
