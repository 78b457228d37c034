import RillStorage
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Simulation {
    /// One node's disk in memory, under the real `SegmentedLog` and `RaftStateLog` (the `FileSystem` seam).
    ///
    /// Like a real disk after a power cut, it keeps only what was synced: a file's bytes survive once its
    /// `sync` (fdatasync) covered them, a name once its directory was synced (creates, renames, deletes).
    /// `crash` throws away the rest, except that appends past a file's synced length may survive in part, a
    /// torn prefix, as a write the disk had begun. Every handle opened before the crash is dead from then on:
    /// the process that held it is gone. `failNextSync` makes one fsync fail with EIO.
    ///
    /// Directories are durable when made (the real `makeDirectories` syncs each parent it adds to).
    final class FileSystem: RillStorage.FileSystem {
        /// `@unchecked Sendable`: read and written only under the file system's lock.
        fileprivate final class Inode: @unchecked Sendable {
            /// What the process sees.
            var data: [UInt8] = []
            /// What the last sync made durable.
            var synced: [UInt8] = []
        }

        fileprivate struct State {
            var directories: Set<String> = ["/"]
            /// Names as the process sees them.
            var names: [String: Inode] = [:]
            /// Names as a crash would leave them: changed only by syncing their directory.
            var syncedNames: [String: Inode] = [:]
            /// Bumped by each crash; a handle from an earlier generation fails every call.
            var generation: UInt64 = 0
            var failNextSync = false
            var syncs = 0
        }

        fileprivate let state = Mutex(State())

        init() {}

        // MARK: - Faults

        /// The power fails: unsynced data and names are lost, but for a torn prefix of unsynced appends, which
        /// `random` chooses; every open handle dies.
        func crash(random: inout Random) {
            state.withLock { state in
                state.generation += 1
                state.names = state.syncedNames
                state.failNextSync = false
                // In name order, so a seed draws the same chances on every run.
                for name in state.names.keys.sorted() {
                    guard let inode = state.names[name] else { continue }
                    let data = inode.data
                    let synced = inode.synced
                    var kept = synced
                    if data.count > synced.count, data.starts(with: synced), random.chance(0.5) {
                        kept = Array(data.prefix(random.int(in: synced.count...data.count)))
                    }
                    inode.data = kept
                    inode.synced = kept
                }
            }
        }

        /// The next fsync of a file fails with EIO (and syncs nothing).
        func failNextSync() {
            state.withLock { $0.failNextSync = true }
        }

        /// How many file syncs ran, for the world's statistics.
        var syncs: Int { state.withLock { $0.syncs } }

        // MARK: - FileSystem

        func open(path: String, create: Bool, truncate: Bool) throws(StorageError) -> any StorageFile {
            try state.withLock { (state) throws(StorageError) -> any StorageFile in
                guard state.directories.contains(parentDirectory(of: path)) else {
                    throw .io(operation: "open", path: path, errno: ENOENT)
                }
                if let inode = state.names[path] {
                    if create && !truncate { throw .io(operation: "open", path: path, errno: EEXIST) }
                    if create { inode.data = [] }
                    return File(path: path, inode: inode, fileSystem: self, generation: state.generation)
                }
                guard create else { throw .io(operation: "open", path: path, errno: ENOENT) }
                let inode = Inode()
                state.names[path] = inode
                return File(path: path, inode: inode, fileSystem: self, generation: state.generation)
            }
        }

        func makeDirectories(_ path: String) throws(StorageError) {
            state.withLock { state in
                var current = path
                while current != "/" && current != "." && !state.directories.contains(current) {
                    state.directories.insert(current)
                    current = parentDirectory(of: current)
                }
            }
        }

        func syncDirectory(_ path: String) throws(StorageError) {
            state.withLock { state in
                for (name, _) in state.syncedNames where parentDirectory(of: name) == path && state.names[name] == nil {
                    state.syncedNames[name] = nil
                }
                for (name, inode) in state.names where parentDirectory(of: name) == path {
                    state.syncedNames[name] = inode
                }
            }
        }

        func contents(of path: String) throws(StorageError) -> [String] {
            state.withLock { state in
                let prefix = path.hasSuffix("/") ? path : path + "/"
                var found = Set(
                    state.names.keys.filter { parentDirectory(of: $0) == path }.map {
                        String($0.dropFirst(prefix.count))
                    }
                )
                for directory in state.directories where directory != path && parentDirectory(of: directory) == path {
                    found.insert(String(directory.dropFirst(prefix.count)))
                }
                return found.sorted()
            }
        }

        func remove(_ path: String) throws(StorageError) {
            state.withLock { _ = $0.names.removeValue(forKey: path) }
        }

        func rename(_ from: String, to: String) throws(StorageError) {
            try state.withLock { (state) throws(StorageError) in
                if let inode = state.names.removeValue(forKey: from) {
                    state.names[to] = inode
                } else if state.directories.contains(from) {
                    // Whole directories move only in operator paths the worlds do not take.
                    throw .io(operation: "rename", path: to, errno: EXDEV)
                } else {
                    throw .io(operation: "rename", path: to, errno: ENOENT)
                }
            }
        }

        func exists(_ path: String) -> Bool {
            state.withLock { $0.names[path] != nil || $0.directories.contains(path) }
        }
    }
}

extension Simulation.FileSystem {
    /// An open file of the simulated disk.
    fileprivate final class File: StorageFile {
        let path: String
        private let inode: Inode
        private let fileSystem: Simulation.FileSystem
        private let generation: UInt64

        init(path: String, inode: Inode, fileSystem: Simulation.FileSystem, generation: UInt64) {
            self.path = path
            self.inode = inode
            self.fileSystem = fileSystem
            self.generation = generation
        }

        /// Runs `body` on the inode under the lock, unless the process that opened this handle has crashed.
        private func access<T>(
            _ operation: String,
            _ body: (Inode, inout State) throws(StorageError) -> T
        )
            throws(StorageError) -> T
        {
            try fileSystem.state.withLock { (state) throws(StorageError) -> T in
                guard state.generation == generation else { throw .io(operation: operation, path: path, errno: EIO) }
                return try body(inode, &state)
            }
        }

        func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(StorageError) {
            try access("pwrite") { inode, _ in
                let end = Int(offset) + bytes.count
                if inode.data.count < end {
                    inode.data.append(contentsOf: repeatElement(0, count: end - inode.data.count))
                }
                inode.data.replaceSubrange(Int(offset)..<end, with: bytes)
            }
        }

        func read(count: Int, at offset: Int64) throws(StorageError) -> [UInt8] {
            try access("pread") { inode, _ in
                let start = min(Int(offset), inode.data.count)
                return Array(inode.data[start..<min(start + count, inode.data.count)])
            }
        }

        func size() throws(StorageError) -> Int64 {
            try access("fstat") { inode, _ in Int64(inode.data.count) }
        }

        func truncate(to length: Int64) throws(StorageError) {
            try access("ftruncate") { inode, _ in
                let length = Int(length)
                if inode.data.count > length {
                    inode.data.removeLast(inode.data.count - length)
                } else {
                    inode.data.append(contentsOf: repeatElement(0, count: length - inode.data.count))
                }
            }
        }

        func sync() throws(StorageError) {
            try access("fdatasync") { (inode, state) throws(StorageError) in
                if state.failNextSync {
                    state.failNextSync = false
                    throw .io(operation: "fdatasync", path: path, errno: EIO)
                }
                state.syncs += 1
                inode.synced = inode.data
            }
        }
    }
}
