import NIOConcurrencyHelpers
import RillKinesis
import RillModel

/// The node's shard copies as the streams service sees them. Holds the node weakly (the node owns its
/// services), through a link the node fills in at the end of its `init`.
struct NodeReplicaLifecycle: ReplicaLifecycle {
    /// The node, once it exists.
    final class Link: Sendable {
        private struct Weak { weak var node: Node? }
        private let box = NIOLockedValueBox(Weak())
        init() {}
        var node: Node? {
            get { box.withLockedValue { $0.node } }
            set { box.withLockedValue { $0.node = newValue } }
        }
    }

    let link: Link
    var node: Node? { link.node }

    func openHeldReplicas(of stream: StreamMetadata, shards: [ShardMetadata]) async throws {
        guard let node else { return }
        for shard in shards where node.holds(shard) { _ = try await node.replica(for: stream, shard: shard) }
    }

    func dropReplicas(streamID: String) async {
        await node?.dropReplicas(streamID: streamID)
    }

    func sealShard(stream: StreamMetadata, shard: ShardMetadata) async throws -> LogIndex {
        guard let node else { throw KinesisError.internalFailure("the node is shutting down") }
        return try await node.sealShard(stream: stream, shard: shard)
    }

    func reopen(streamID: String, shard: UInt32) {
        node?.localReplica(streamID: streamID, shard: shard)?.setSealed(at: nil)
    }
}
