import RillKinesis
import RillModel

extension StreamsService {
    /// Carries out a scaling decision on an on-demand stream (`OnDemandScaling`): the same seal-then-commit
    /// reshard as SplitShard and MergeShards, without their refusal of on-demand streams (that refusal is for
    /// clients; the controller is what scales such a stream). A decision the catalog has overtaken (the
    /// stream is gone or provisioned now, a shard closed meanwhile) is dropped: the next round decides afresh.
    func scale(_ stream: StreamMetadata, _ decision: OnDemandScaler.Decision) async throws {
        let namespace = stream.namespace
        let current = try currentStream(stream, namespace)
        guard current.mode == .onDemand else { return }
        switch decision {
        case .split(let shardText, let key, _):
            guard let id = ShardID(parsing: shardText), let shard = current.shard(id), shard.isOpen,
                key.rawValue > shard.hashRange.start.rawValue &+ 1, key <= shard.hashRange.end
            else { return }
            try checkShardLimit(adding: 1, namespace)
            try await split(current, shard, at: key, namespace)
        case .merge(let lowerText, let upperText, _):
            guard let lowerID = ShardID(parsing: lowerText), let upperID = ShardID(parsing: upperText),
                let lower = current.shard(lowerID), let upper = current.shard(upperID), lower.isOpen, upper.isOpen,
                lower.hashRange.end < .max, lower.hashRange.end.rawValue + 1 == upper.hashRange.start.rawValue
            else { return }
            try await merge(current, lower, upper, namespace)
        }
    }
}
