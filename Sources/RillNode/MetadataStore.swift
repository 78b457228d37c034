import Foundation
import Logging
import RillCluster
import RillKinesis
import RillModel
import RillRaft
import RillReplication
import RillStorage
import Synchronization

/// The metadata group: its Raft log of catalog commands and the catalog applied from it, on every voting
/// node (or this node alone).
final class MetadataStore: Sendable {
    /// What the apply callback (created before the store) and the store share.
    final class Applied: Sendable {
        /// Readers take a copy of the catalog without hopping onto the driver.
        let catalog = Mutex(Catalog())
        /// Outcomes of applied commands, until their proposer picks them up.
        let results = Mutex<[LogIndex: Result<Void, KinesisError>]>([:])
        /// Replayed entries at start have no proposer waiting: their outcomes are not kept.
        let keepResults = Mutex(false)
    }

    let driver: RaftGroupDriver
    private let applied: Applied

    private init(driver: RaftGroupDriver, applied: Applied) {
        self.driver = driver
        self.applied = applied
    }

    /// Opens the metadata log and replays it into the catalog; returns once this node leads the group and has
    /// applied everything committed before.
    static func open(
        directory: String,
        plan: GroupPlan,
        stateLog: RaftStateLog,
        flusher: Flusher,
        logger: Logger,
        registry: GroupRegistry,
        onSnapshotInstalled: @escaping @Sendable () -> Void = {},
        onEvent: @escaping @Sendable (ClusterEvent) -> Void = { _ in },
        onApplied: @escaping @Sendable () -> Void
    ) async throws -> MetadataStore {
        // Damage in the metadata log is quarantined by recovery; refuse to run on what is left, since streams
        // committed after the damage would silently vanish. The operator restores meta/ or accepts the loss.
        let quarantine = directory + "/damaged"
        // In a cluster the other voters hold the metadata: wipe-and-rejoin copies it back and abstains from
        // votes meanwhile, which restoring a backup of one node would not.
        let advice =
            plan.isSoleVoter
            ? "Restore \(directory) from a backup, or delete \(quarantine) to start with the metadata before the damage."
            : "Delete this node's whole data directory and start it again with the same --id: it rejoins the cluster and copies its data back."
        if FileManager.default.fileExists(atPath: quarantine) {
            throw MetadataDamaged(
                description:
                    "the metadata log in \(directory) is damaged; the damaged part was moved to \(quarantine). \(advice)"
            )
        }
        let storage = try RaftGroupDriver.openStorage(group: .meta, directory: directory, stateLog: stateLog)
        if case .damaged(let reason, _) = storage.log.recovery {
            throw MetadataDamaged(
                description:
                    "the metadata log in \(directory) is damaged (\(reason)); the damaged part was moved to \(quarantine). \(advice)"
            )
        }
        let state = Applied()
        let driver = RaftGroupDriver(
            group: .meta,
            plan: plan,
            storage: storage,
            stateLog: stateLog,
            flusher: flusher,
            logger: logger,
            onSnapshotInstalled: onSnapshotInstalled,
            apply: { entries in
                // Read once per batch: it turns true once, after the start-up replay, before live entries.
                let live = state.keepResults.withLock { $0 }
                for entry in entries where entry.kind == .meta {
                    let result: Result<Void, KinesisError>
                    do {
                        let command = try JSONDecoder().decode(CatalogCommand.self, from: Data(entry.payload))
                        result = state.catalog.withLock { $0.apply(command, at: entry.index) }
                        // Only changes applied live: replaying the log at start-up would flood the event ring
                        // with old streams.
                        if case .success = result, live,
                            let event = ClusterEvent.catalogChange(command, stampMillis: entry.timestampMillis)
                        {
                            onEvent(event)
                        }
                    } catch {
                        // A committed entry this version cannot read: say so; never guess at its meaning.
                        logger.error(
                            "unreadable metadata entry",
                            metadata: ["index": "\(entry.index)", "error": "\(error)"]
                        )
                        result = .failure(.internalFailure("unreadable metadata entry \(entry.index)"))
                    }
                    if live {
                        state.results.withLock { results in
                            results[entry.index] = result
                            // Entries proposed by other nodes have nobody here to pick their outcome up.
                            if results.count > 4096 {
                                let horizon = LogIndex(entry.index.rawValue &- 1024)
                                results = results.filter { $0.key > horizon }
                            }
                        }
                    }
                }
                if !entries.isEmpty { onApplied() }
            }
        )
        registry.register(driver)
        try await driver.start(plan)
        state.keepResults.withLock { $0 = true }
        logger.info("metadata loaded", metadata: ["rill.meta.index": "\(storage.log.lastIndex)"])
        return MetadataStore(driver: driver, applied: state)
    }

    var catalog: Catalog { applied.catalog.withLock { $0 } }

    /// Reads the applied catalog in place, under its lock, without copying it.
    func withCatalog<T: Sendable>(_ body: (borrowing Catalog) -> T) -> T {
        applied.catalog.withLock { body($0) }
    }

    /// Proposes a command and returns its outcome once it is committed and applied.
    func propose(_ command: CatalogCommand, stampMillis: Int64) async throws -> Result<Void, KinesisError> {
        let payload = Array(try JSONEncoder().encode(command))
        let index: LogIndex
        do {
            index = try await driver.propose(kind: .meta, payload: payload, timestampMillis: stampMillis)
        } catch let error as RaftGroupDriver.ProposalError {
            if let redirect = Redirect(error) { throw redirect }
            throw KinesisError.internalFailure("The metadata change could not be committed (\(error)); retry.")
        }
        return applied.results.withLock { $0.removeValue(forKey: index) }
            ?? .failure(.internalFailure("metadata entry \(index) applied without an outcome"))
    }

    func stop() async { await driver.stop() }
}

/// The metadata log cannot be trusted; the node must not start on it.
struct MetadataDamaged: Error, CustomStringConvertible {
    var description: String
}
