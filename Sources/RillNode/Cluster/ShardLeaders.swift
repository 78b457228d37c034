import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RillAPI
import RillCluster
import RillKinesis
import RillModel
import RillRaft
import RillReplication
import RillRouting
import RillStorage
import RillTransport

/// Where each shard is led and how this node reaches it: the replica a read is served from, appends and seals on
/// the shard's leader (here, or one hop away through the one forwarder), and this node's own lead for the
/// throughput limits. The node owns one; the records service reaches it through `NodeShardAppender`.
struct ShardLeaders: Sendable {
    let me: NodeID
    /// False for a one-node cluster, which leads every shard it opens.
    let isCluster: Bool
    let registry: GroupRegistry
    /// Sends to shard leaders elsewhere; nil for a one-node cluster.
    let forwarder: Forwarder?
    let host: ReplicaHost
    let producerWindows: ProducerWindows
    let clock: any WallClock
    let metrics: NodeMetrics

    /// Where `group` is led: this node's own view if it runs the group, else the last redirect's hint, the
    /// newest gossiped hint, or the preferred replica. nil while an election is under way.
    func leader(of group: RaftGroupID, replicas: [UInt64]?) async -> NodeID? {
        if let driver = registry.driver(for: group) {
            let leadership = await driver.leadership
            return leadership.role == .leader ? me : leadership.leader
        }
        return forwarder?.knownLeader(of: group) ?? replicas?.first.map { NodeID($0) }
    }

    /// The replica a read of `shard` is served from: this node's, when it leads the shard (reads stop at the
    /// leader's commit index, so a reader sees every acknowledged write). Otherwise the call is redirected.
    /// A leader just elected waits until it has applied an entry of its term: followers learn commit indexes
    /// lazily, so until then its own may trail the last acknowledged write (the retry comes back here).
    func servingReplica(stream: StreamMetadata, shard: ShardMetadata) async throws -> ShardReplica {
        guard isCluster else { return try await host.replica(for: stream, shard: shard) }
        let group = RaftGroupID.shard(streamID: stream.id, shard: shard.id)
        // Only the replica's own driver may say it leads. Any other view of the leader (a gossiped hint, the
        // preferred replica) can name this node while its replica follows, or opened a moment ago with the commit
        // index of its last state hint: served from, such a replica reads nothing of what the shard holds, and a
        // reader at its "tip" stops (right after a restart of the whole cluster, a read came back empty so).
        if let replica = host.localReplica(streamID: stream.id, shard: shard.index) {
            let leadership = await replica.driver.leadership
            if leadership.role == .leader {
                guard leadership.appliedInTerm else { throw Redirect(hint: me) }
                return replica
            }
            if let leader = leadership.leader, leader != me { throw Redirect(hint: leader) }
        }
        // No replica here, or one without a leader yet: the retry comes back here when the hint is this node.
        throw Redirect(hint: await leader(of: group, replicas: shard.replicas))
    }

    /// Proposes the batch to the shard's group on its leader (here or, when `reach` allows, one hop away) and
    /// waits until it is committed: on disk on a majority. Returns the entry's index and the leader's arrival
    /// stamp.
    func appendDurably(
        _ batch: RecordBatch,
        stream: StreamMetadata,
        shard: ShardMetadata,
        reach: Reach
    ) async throws -> (LogIndex, Int64) {
        try await onShardLeader(
            stream: stream,
            shard: shard,
            reach: reach,
            local: { replica in
                let stamp = self.clock.nowMillis()
                do {
                    return (try await replica.append(batch, stampMillis: stamp), stamp)
                } catch is ShardReplica.Sealed {
                    // The same error as a leader elsewhere answers (`Forwarder.failure`): route again.
                    throw ShardSealed()
                }
            },
            remote: .append(streamID: stream.id, shard: shard.index, batch: batch.encoded()),
            decode: { answer in
                guard case .appended(let index, let stamp) = answer else { return nil }
                return (LogIndex(index), stamp)
            }
        )
    }

    /// `appendDurably` for an idempotent producer's batch (it carries a `ProducerStamp`): the shard's leader
    /// stores only the records it has not committed yet and answers each with its position (`appendOnce`).
    func appendOnce(
        _ batch: RecordBatch,
        stream: StreamMetadata,
        shard: ShardMetadata,
        reach: Reach
    ) async throws -> [Result<RecordPosition, KinesisError>] {
        let encoded = batch.encoded()
        return try await onShardLeader(
            stream: stream,
            shard: shard,
            reach: reach,
            local: { replica in
                do {
                    return try await replica.appendOnce(encoded: encoded, stampMillis: self.clock.nowMillis()) {
                        try await self.producerWindows.parentProducerWindows(streamID: stream.id, shard: shard.index)
                    }
                } catch is ShardReplica.Sealed {
                    throw ShardSealed()
                }
            },
            remote: .append(streamID: stream.id, shard: shard.index, batch: encoded),
            decode: { answer in
                guard case .appendedOnce(let outcomes) = answer, outcomes.count == batch.records.count else {
                    return nil
                }
                return outcomes
            }
        )
    }

    /// Appends the `seal` entry of a reshard on the shard's leader, wherever it is: the seal is this node's
    /// own call, not part of the client call (forwarded here or not) that asked for the reshard.
    func sealShard(stream: StreamMetadata, shard: ShardMetadata) async throws -> LogIndex {
        try await onShardLeader(
            stream: stream,
            shard: shard,
            reach: .leader,
            local: { replica in try await replica.appendSeal(stampMillis: self.clock.nowMillis()) },
            remote: .seal(streamID: stream.id, shard: shard.index),
            decode: { answer in
                guard case .sealed(let index) = answer else { return nil }
                return LogIndex(index)
            }
        )
    }

    /// This node's replica of `shard` when it is listed, or when it is being opened here, once open (never opens
    /// one itself: a shard being dropped must not come back): a new group
    /// campaigns as it opens and may lead a moment before its replica is listed (`localReplica`). In that moment
    /// an append led here was refused, though this node led the shard: a forwarded one failed as InternalFailure
    /// (a router's PutRecords lost records after splits and merges), a client's own one backed off blindly until
    /// the replica was listed. nil when the group does not run here.
    func runningReplica(stream: StreamMetadata, shard: ShardMetadata) async throws -> ShardReplica? {
        if let replica = host.localReplica(streamID: stream.id, shard: shard.index) { return replica }
        return try await host.openingReplica(streamID: stream.id, shard: shard.index)
    }

    /// Runs `local` on this node's replica when it leads the shard, else (with `reach` `.leader`) sends
    /// `remote` to the leader; retries only what provably did not happen (ARCHITECTURE.md, "One forwarder").
    private func onShardLeader<T>(
        stream: StreamMetadata,
        shard: ShardMetadata,
        reach: Reach,
        local: @escaping (ShardReplica) async throws -> T,
        remote: PeerCall,
        decode: @escaping (PeerAnswer) -> T?
    ) async throws -> T {
        guard isCluster else { return try await local(try await host.replica(for: stream, shard: shard)) }
        let group = RaftGroupID.shard(streamID: stream.id, shard: shard.id)
        if reach == .here {
            // The client call was forwarded here: serve it here or tell its sender where to go.
            let leader = await leader(of: group, replicas: shard.replicas)
            guard leader == me, let replica = try await runningReplica(stream: stream, shard: shard) else {
                throw Redirect(hint: leader)
            }
            return try await local(replica)
        }
        guard let forwarder else { throw KinesisError.internalFailure("no peer transport") }
        return try await forwarder.untilServed { hint in
            var target = hint
            if target == nil { target = await self.leader(of: group, replicas: shard.replicas) }
            guard let target else { return nil }
            if target == self.me {
                guard let replica = try await self.runningReplica(stream: stream, shard: shard) else {
                    throw Redirect(hint: nil)
                }
                return try await local(replica)
            }
            self.metrics.forwarded()
            // A leader that stops answering (paused, cut off) is replaced within an election timeout; this
            // node's replica sees that, and the wait ends then rather than at the call timeout.
            let outcome = try await forwarder.watchingLeadership(of: group, at: target) { abandonment in
                try await forwarder.send(remote, to: target, abandonment: abandonment)
            }
            switch outcome {
            case .notDelivered:
                forwarder.setLeader(nil, of: group)
                return nil
            case .answered(let answer):
                if let value = decode(answer) {
                    forwarder.setLeader(target, of: group)
                    return value
                }
                throw Forwarder.failure(answer, from: target)
            }
        }
    }

    /// This node's lead of the shard, for its throughput limits: the term it leads in and its log's newest record
    /// stamp; nil when this node does not lead the shard (the leader then admits what this node sends it).
    func shardLead(stream: StreamMetadata, shard: ShardMetadata) async throws -> ShardLead? {
        // A node alone opens its replicas on first use; in a cluster only placed replicas exist.
        let copy: ShardReplica?
        if !isCluster {
            copy = try await host.replica(for: stream, shard: shard)
        } else {
            copy = host.localReplica(streamID: stream.id, shard: shard.index)
        }
        guard let copy, let term = await copy.driver.leaderTerm else { return nil }
        return ShardLead(term: term.rawValue, newestRecordMillis: copy.newestRecordMillis)
    }

    /// A subscription reads this node's replica of the shard, leader or not (pushed records trail the leader by
    /// a heartbeat at most); a node without one sends the client to the shard's leader's API address.
    func subscriptionReplica(stream: StreamMetadata, shard: ShardMetadata) async throws -> ShardReplica {
        if !isCluster { return try await host.replica(for: stream, shard: shard) }
        if let local = host.localReplica(streamID: stream.id, shard: shard.index) { return local }
        throw KinesisError.internalFailure(
            "This node holds no replica of \(shard.id.name); subscribe through a node that does (its replicas are nodes \(shard.replicas ?? []))."
        )
    }
}

extension ShardReplica {
    /// The stamp of the newest record the log holds (nil when it holds none): how recently the shard was written.
    var newestRecordMillis: Int64? {
        // Raft's own entries (no-ops, configurations) are stamped 0.
        log.segments().map(\.maxTimestamp).filter { $0 > 0 }.max()
    }
}
