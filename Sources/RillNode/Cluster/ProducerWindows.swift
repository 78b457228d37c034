import Logging
import RillCluster
import RillKinesis
import RillModel

/// Idempotent producers across a reshard (docs/producers.md, "Across a reshard"): a child shard takes over the
/// final producer windows of the shards it was made from. This node reads them from its own replica of a parent
/// or asks the parent's other replicas (`PeerCall.producerWindow`); any replica that has applied the parent's seal
/// has the final window, since no record enters a window behind its seal. The node owns one.
struct ProducerWindows: Sendable {
    let me: NodeID
    let metadata: MetadataStore
    let host: ReplicaHost
    /// Asks the parent's other replicas; nil for a one-node cluster, which holds every replica itself.
    let forwarder: Forwarder?
    let logger: Logger

    /// What the child `shard` of `streamID` takes over: its parents' final windows, each tagged with its shard
    /// (`ProducerWindow.inheritance`). A parent no longer in the catalog is gone with its records and adds
    /// nothing.
    ///
    /// - Throws: when a parent's window cannot be read now (no replica reachable, or none past the seal yet).
    func parentProducerWindows(streamID: String, shard: UInt32) async throws -> ProducerWindow {
        guard let stream = metadata.catalog.allStreams.first(where: { $0.id == streamID }),
            let child = stream.shards.first(where: { $0.index == shard })
        else { throw KinesisError.internalFailure("The shard's stream is not in this node's catalog; retry.") }
        return try await lineageWindows(of: child, in: stream, depth: 0)
    }

    /// The windows `child` takes over from its parents, merged (`ProducerWindow.inheritance`).
    private func lineageWindows(
        of child: ShardMetadata,
        in stream: StreamMetadata,
        depth: Int
    ) async throws
        -> ProducerWindow
    {
        var parents: [(origin: ShardOrigin, window: ProducerWindow)] = []
        for index in [child.parent, child.adjacentParent].compactMap({ $0 }) {
            guard let parent = stream.shards.first(where: { $0.index == index }) else { continue }
            guard let seal = parent.sealIndex else {
                throw KinesisError.internalFailure(
                    "Shard \(parent.id.name) is not sealed in this node's catalog; retry."
                )
            }
            var window = try await finalProducerWindow(of: parent, in: stream, sealedAt: LogIndex(seal))
            // A parent that never served a producer never took over its own parents' windows: what it passes
            // on must hold them too, or a retry of a grandparent's record would be stored again. The lineage is
            // finite (every parent is older than its child); the depth bound only guards a damaged catalog.
            if !window.inherited, parent.parent != nil, depth < 64 {
                window.inherit([try await lineageWindows(of: parent, in: stream, depth: depth + 1)])
            }
            parents.append((ShardOrigin(index: parent.index, epoch: parent.epoch), window))
        }
        return ProducerWindow.inheritance(from: parents)
    }

    /// `parent`'s producer window, final at `seal`: from this node's replica when it has applied the seal,
    /// else from the first of the parent's other replicas that answers.
    private func finalProducerWindow(
        of parent: ShardMetadata,
        in stream: StreamMetadata,
        sealedAt seal: LogIndex
    ) async throws -> ProducerWindow {
        if let local = host.localReplica(streamID: stream.id, shard: parent.index)?.finalProducerWindow(sealedAt: seal)
        {
            return local
        }
        let call = PeerCall.producerWindow(streamID: stream.id, shard: parent.index, sealIndex: seal.rawValue)
        for replica in (parent.replicas ?? []) + (parent.leaving ?? []) where NodeID(replica) != me {
            let outcome: PeerOutcome
            do {
                guard let forwarder else { throw KinesisError.internalFailure("no peer transport") }
                outcome = try await forwarder.send(call, to: NodeID(replica), timeout: .seconds(2))
            } catch {
                logger.debug("a parent shard's replica did not answer", metadata: ["peer.node": "\(replica)"])
                continue
            }
            guard case .answered(let answer) = outcome else { continue }
            guard case .producerWindow(let bytes) = answer else {
                // Behind the seal, or an older node that does not know the call: ask the next replica.
                logger.debug("a parent shard's replica has no final window", metadata: ["peer.node": "\(replica)"])
                continue
            }
            do {
                return try ProducerWindow(decoding: bytes)
            } catch {
                logger.warning("a parent shard's producer window is unreadable", metadata: ["peer.node": "\(replica)"])
            }
        }
        throw KinesisError.internalFailure(
            "The producer window of shard \(parent.id.name), which this shard was made from, cannot be read now; retry."
        )
    }

    /// Answers `PeerCall.producerWindow`: this replica's window once it has applied the seal.
    func answerProducerWindow(streamID: String, shard: UInt32, sealIndex: UInt64) -> PeerAnswer {
        guard
            let window = host.localReplica(streamID: streamID, shard: shard)?.finalProducerWindow(
                sealedAt: LogIndex(sealIndex)
            )
        else {
            return .error(
                code: KinesisErrorCode.internalFailure.rawValue,
                message: "This replica has not applied the shard's seal."
            )
        }
        return .producerWindow(window.encoded())
    }
}
