import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import RillKinesis
import RillModel
import RillStorage

/// The metadata group's log and the catalog applied from it. With one voter it commits what it has
/// flushed; the replication issue puts Raft between `propose` and `apply` without changing either side.
actor MetadataStore {
    private let log: SegmentedLog
    private let flusher: Flusher
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private let term = Term(1)
    /// Appended but not yet applied, in index order.
    private var pending: [(index: LogIndex, command: CatalogCommand)] = []
    private var results: [LogIndex: Result<Void, KinesisError>] = [:]
    /// Readers take a copy of the catalog without hopping onto the actor.
    nonisolated let snapshot: NIOLockedValueBox<Catalog>

    init(directory: String, flusher: Flusher, threadPool: NIOThreadPool, logger: Logger) throws {
        // Damage in the metadata log is quarantined by recovery; refuse to run on what is left, since streams
        // committed after the damage would silently vanish. The operator restores meta/ or accepts the loss.
        let quarantine = directory + "/damaged"
        if FileManager.default.fileExists(atPath: quarantine) {
            throw MetadataDamaged(
                description: "the metadata log in \(directory) is damaged; the damaged part was moved to \(quarantine). "
                    + "Restore \(directory) from a backup, or delete \(quarantine) to start with the metadata before the damage.")
        }
        self.log = try SegmentedLog.open(directory: directory, options: .init())
        if case .damaged(let reason, _) = log.recovery {
            throw MetadataDamaged(
                description: "the metadata log in \(directory) is damaged (\(reason)); the damaged part was moved to "
                    + "\(quarantine). Restore \(directory) from a backup, or delete \(quarantine) to start with the "
                    + "metadata before the damage.")
        }
        // Recovered entries may sit only in the page cache after a process crash: make them durable
        // before applying them.
        try log.sync()
        self.flusher = flusher
        self.threadPool = threadPool
        self.logger = logger
        var catalog = Catalog()
        var next = log.firstIndex
        while next <= log.lastIndex {
            let entries = try log.entries(from: next, maxCount: 1024, maxBytes: 16 << 20)
            guard let last = entries.last else { break }
            for entry in entries where entry.kind == .meta {
                let command = try JSONDecoder().decode(CatalogCommand.self, from: Data(entry.payload))
                _ = catalog.apply(command, at: entry.index)
            }
            next = last.index.next
        }
        self.snapshot = NIOLockedValueBox(catalog)
        logger.info("metadata loaded", metadata: ["rill.meta.index": "\(log.lastIndex)"])
    }

    nonisolated var catalog: Catalog { snapshot.withLockedValue { $0 } }

    /// Appends a command, waits until it is durable, applies everything durable in order, and returns
    /// this command's outcome.
    func propose(_ command: CatalogCommand, stampMillis: Int64) async throws -> Result<Void, KinesisError> {
        let payload = Array(try JSONEncoder().encode(command))
        let index = log.lastIndex.next
        try log.append([LogEntry(term: term, index: index, kind: .meta, timestampMillis: stampMillis, payload: payload)])
        pending.append((index, command))
        try await flusher.waitDurable(log)
        applyDurable()
        guard let result = results.removeValue(forKey: index) else {
            preconditionFailure("metadata entry \(index) durable but not applied")
        }
        return result
    }

    private func applyDurable() {
        let durable = log.durableIndex
        while let first = pending.first, first.index <= durable {
            pending.removeFirst()
            let result = snapshot.withLockedValue { $0.apply(first.command, at: first.index) }
            results[first.index] = result
        }
    }
}

/// The metadata log cannot be trusted; the node must not start on it.
struct MetadataDamaged: Error, CustomStringConvertible {
    var description: String
}
