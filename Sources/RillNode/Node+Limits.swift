import RillKinesis
import RillModel

/// Where the throughput limits are enforced: on the shard's leader, whichever node the client called.
extension Node {
    /// This node's lead of the shard, for its throughput limits: the term it leads in and its log's newest record
    /// stamp; nil when this node does not lead the shard (the leader then admits what this node sends it).
    func shardLead(stream: StreamMetadata, shard: ShardMetadata) async throws -> ShardLead? {
        // A node alone opens its replicas on first use; in a cluster only placed replicas exist.
        let copy: ShardReplica?
        if cluster == nil {
            copy = try await replica(for: stream, shard: shard)
        } else {
            copy = localReplica(streamID: stream.id, shard: shard.index)
        }
        guard let copy, let term = await copy.driver.leaderTerm else { return nil }
        return ShardLead(term: term.rawValue, newestRecordMillis: copy.newestRecordMillis)
    }

    /// Admits, on this leader, a batch another node forwards to be appended whole (`PeerCall.append`): that node
    /// did not lead the shard, so it admitted nothing. All its records, or none (ProvisionedThroughputExceeded,
    /// which the sender's client sees for each of them).
    func admitForwardedBatch(_ batch: [UInt8], streamID: String, replica: ShardReplica) async throws {
        let limiter = services.throughput
        guard limiter.enabled, let term = await replica.driver.leaderTerm else { return }
        guard let stream = metadata.catalog.allStreams.first(where: { $0.id == streamID }) else { return }
        let records = try RecordBatch(decoding: batch).records
        let lead = ShardLead(term: term.rawValue, newestRecordMillis: replica.newestRecordMillis)
        let sizes = records.map { $0.data.count + $0.partitionKey.utf8.count }
        guard limiter.admitBatch(stream, replica.shard, lead: lead, sizes: sizes) else {
            throw ThroughputLimiter.rateExceeded(replica.shard, stream)
        }
    }
}

extension ShardReplica {
    /// The stamp of the newest record the log holds (nil when it holds none): how recently the shard was written.
    var newestRecordMillis: Int64? {
        // Raft's own entries (no-ops, configurations) are stamped 0.
        log.segments().map(\.maxTimestamp).filter { $0 > 0 }.max()
    }
}
