import NIOPosix

/// Where `rill archive` puts objects: a folder or an S3 bucket. The shard workers only know this, and rely on its
/// one promise: when `put` returns, the object is durably in place, whole, under its name (replacing an object of
/// that name); when it throws, nothing may be checkpointed for it.
protocol ArchiveDestination: Sendable {
    /// `/data/orders` or `s3://bucket/path/`, for log lines.
    var description: String { get }

    /// Gets the destination ready before the first object (a folder's staging area); returns what it cleaned up,
    /// for the log, or nil.
    func prepare() async throws(ArchiveDestinationError) -> String?

    /// Writes `body` as `key` (folders under the destination, then a name), durably.
    func put(_ key: String, body: [UInt8]) async throws(ArchiveDestinationError)

    /// Removes `key` if it is there, durably.
    func remove(_ key: String) async throws(ArchiveDestinationError)

    /// Releases connections; the destination is not used after.
    func close() async
}

/// A failed write. `fatal` ones (S3's 4xx: no such bucket, access denied, bad credentials) stop the archiver, since
/// trying again cannot help and the error output lives at the same destination; the others are retried and, after
/// `ArchiveSettings.writeAttempts`, sent to the error output.
struct ArchiveDestinationError: Error, CustomStringConvertible {
    var description: String
    var fatal = false
}

/// The folder destination: `ArchiveFolder`'s blocking calls run on the thread pool.
struct ArchiveFolderDestination: ArchiveDestination {
    let folder: ArchiveFolder
    let threadPool: NIOThreadPool

    var description: String { folder.root }

    func prepare() async throws(ArchiveDestinationError) -> String? {
        let folder = self.folder
        let leftovers = try await run { try folder.prepare() }
        return leftovers > 0 ? "removed \(leftovers) temporary files an earlier run left in \(folder.root)" : nil
    }

    func put(_ key: String, body: [UInt8]) async throws(ArchiveDestinationError) {
        let folder = self.folder
        try await run { try folder.put(key, body: body) }
    }

    func remove(_ key: String) async throws(ArchiveDestinationError) {
        let folder = self.folder
        try await run { try folder.remove(key) }
    }

    func close() async {}

    private func run<T: Sendable>(
        _ work: @escaping @Sendable () throws -> T
    ) async throws(ArchiveDestinationError) -> T {
        do {
            return try await threadPool.runIfActive { try work() }
        } catch {
            throw ArchiveDestinationError(description: "\(error)")
        }
    }
}
