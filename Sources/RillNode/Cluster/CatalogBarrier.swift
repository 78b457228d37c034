import Foundation
import Logging
import RillCluster
import RillKinesis
import RillModel
import Synchronization

/// How a restarted node learns that its catalog is current. It replays the metadata log only to its last
/// recorded commit, so for a while after a restart its catalog may not show a reshard that committed before:
/// a parent it holds would look open. The node proposes a barrier (`CatalogCommand.barrier`) and, once it has
/// applied its own barrier, knows its catalog holds everything committed before the restart. Until then,
/// shards whose logs hold a seal the catalog does not show stay closed to writes
/// (`ShardReplica.reopenUnconfirmedSeal`). The node owns one.
final class CatalogBarrier: Sendable {
    let me: NodeID
    let metadata: MetadataStore
    let proposals: CatalogProposals
    let logger: Logger
    /// Set once this node's catalog is known to be current (`confirm`); from the start in a one-node cluster.
    private let confirmed = Mutex(false)

    init(me: NodeID, metadata: MetadataStore, proposals: CatalogProposals, logger: Logger) {
        self.me = me
        self.metadata = metadata
        self.proposals = proposals
        self.logger = logger
    }

    /// Whether this node has applied a barrier it proposed since it started (a one-node cluster's catalog is
    /// complete at start).
    var isCurrent: Bool { confirmed.withLock { $0 } }

    /// Alone, the node's metadata log is the whole catalog: complete once replayed.
    func markCurrent() { confirmed.withLock { $0 = true } }

    /// Proposes barriers until one is applied here, then settles the seals that waited for it (`host`'s
    /// reconcile).
    func confirm(settling host: ReplicaHost) async {
        let nonce = UInt64.random(in: 1...UInt64.max)
        var attempts = 0
        while !Task.isCancelled {
            attempts += 1
            do {
                try await proposals.proposeToMetadataLeader(.barrier(node: me.rawValue, nonce: nonce))
                break
            } catch {
                if attempts % 20 == 0 {
                    logger.warning(
                        "the catalog barrier is not committed yet; sealed shards stay closed to writes",
                        metadata: ["attempts": "\(attempts)", "error": "\(error)"]
                    )
                }
                do { try await Task.sleep(for: .milliseconds(250)) } catch { return }
            }
        }
        // Committed on the leader; applied here once this node's metadata replica reaches it.
        while metadata.catalog.barriers[me.rawValue] != nonce {
            do { try await Task.sleep(for: .milliseconds(20)) } catch { return }
        }
        markCurrent()
        logger.info("the catalog is current", metadata: ["rill.meta.index": "\(metadata.catalog.appliedIndex)"])
        do { try await host.reconcile() } catch {
            logger.error("could not open the replicas the catalog places here", metadata: ["error": "\(error)"])
        }
    }
}
