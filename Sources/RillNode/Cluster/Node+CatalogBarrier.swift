import Foundation
import RillCluster
import RillKinesis
import RillModel

/// How a restarted node learns that its catalog is current. It replays the metadata log only to its last
/// recorded commit, so for a while after a restart its catalog may not show a reshard that committed before:
/// a parent it holds would look open. The node proposes a barrier (`CatalogCommand.barrier`) and, once it has
/// applied its own barrier, knows its catalog holds everything committed before the restart. Until then,
/// shards whose logs hold a seal the catalog does not show stay closed to writes
/// (`ShardReplica.reopenUnconfirmedSeal`).
extension Node {
    /// Whether this node has applied a barrier it proposed since it started (a one-node cluster's catalog is
    /// complete at start).
    var catalogIsCurrent: Bool { catalogConfirmed.withLockedValue { $0 } }

    /// Proposes barriers until one is applied here, then settles the seals that waited for it.
    func confirmCatalog() async {
        let nonce = UInt64.random(in: 1...UInt64.max)
        var attempts = 0
        while !Task.isCancelled {
            attempts += 1
            do {
                try await proposeToMetadataLeader(.barrier(node: me.rawValue, nonce: nonce))
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
        catalogConfirmed.withLockedValue { $0 = true }
        logger.info("the catalog is current", metadata: ["rill.meta.index": "\(metadata.catalog.appliedIndex)"])
        do { try await reconcile() } catch {
            logger.error("could not open the replicas the catalog places here", metadata: ["error": "\(error)"])
        }
    }

    /// Proposes `command` to the metadata group wherever it is led, following redirects until the forwarder's
    /// deadline; throws the catalog's refusal, or the forwarder's failure.
    func proposeToMetadataLeader(_ command: CatalogCommand) async throws {
        let encoded = Array(try JSONEncoder().encode(command))
        _ = try await untilServed { hint -> Bool? in
            var target = hint
            if target == nil { target = await self.metadata.driver.status.leader }
            let answer: PeerAnswer
            if target == nil || target == self.me {
                answer = await self.answerProposeCatalog(encoded)
            } else if let target {
                guard case .answered(let remote) = try await self.send(.proposeCatalog(command: encoded), to: target)
                else { return nil }
                answer = remote
            } else {
                return nil
            }
            switch answer {
            case .response: return true
            case .notLeader(let hint): throw Redirect(hint: hint.map { NodeID($0) })
            default: throw Forwarder.failure(answer, from: target ?? self.me)
            }
        }
    }
}
