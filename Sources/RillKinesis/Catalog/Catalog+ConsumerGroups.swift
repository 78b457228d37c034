import RillModel

extension Catalog {
    /// The groups of one stream, by name.
    public func consumerGroups(of stream: String, in namespace: Namespace) -> [ConsumerGroup] {
        guard let id = self.stream(stream, in: namespace)?.id else { return [] }
        return (consumerGroups[id]?.values.map { $0 } ?? []).sorted { $0.name < $1.name }
    }

    public func consumerGroup(_ group: String, of stream: String, in namespace: Namespace) -> ConsumerGroup? {
        guard let id = self.stream(stream, in: namespace)?.id else { return nil }
        return consumerGroups[id]?[group]
    }

    /// At most this many groups per stream (AWS allows 20 enhanced fan-out consumers; groups are cheaper, but bounded).
    public static let consumerGroupLimit = 50

    mutating func apply(_ command: ConsumerGroupCommand) -> Result<LeaseOutcome, KinesisError> {
        switch command {
        case .create(let namespace, let name, let group, let position, let now, let failover):
            guard let stream = streams[namespace]?[name] else {
                return .failure(.streamNotFound(name, account: namespace.account))
            }
            guard ConsumerGroup.isValidName(group) else {
                return .failure(
                    KinesisError(
                        .validation,
                        "Group name \(group) must be 1-128 characters of a-z, A-Z, 0-9, _, . and -."
                    )
                )
            }
            guard consumerGroups[stream.id]?[group] == nil else {
                return .failure(
                    KinesisError(.resourceInUse, "Consumer group \(group) already exists on stream \(name).")
                )
            }
            guard (consumerGroups[stream.id]?.count ?? 0) < Self.consumerGroupLimit else {
                return .failure(
                    KinesisError(
                        .limitExceeded,
                        "Stream \(name) already has \(Self.consumerGroupLimit) consumer groups."
                    )
                )
            }
            guard ConsumerGroup.failoverMillisRange.contains(failover) else {
                return .failure(
                    KinesisError(
                        .validation,
                        "FailoverTimeMillis must be between \(ConsumerGroup.failoverMillisRange.lowerBound) and \(ConsumerGroup.failoverMillisRange.upperBound)."
                    )
                )
            }
            var created = ConsumerGroup(
                name: group,
                streamID: stream.id,
                initialPosition: position,
                createdMillis: now,
                failoverMillis: failover
            )
            created.leases.apply(.syncShards(Self.lineage(of: stream), atMillis: now))
            consumerGroups[stream.id, default: [:]][group] = created
            return .success(.group(created))
        case .delete(let namespace, let name, let group):
            guard let id = streams[namespace]?[name]?.id, consumerGroups[id]?.removeValue(forKey: group) != nil else {
                return .failure(KinesisError(.resourceNotFound, "Consumer group \(group) of stream \(name) not found."))
            }
            return .success(.none)
        case .lease(let namespace, let name, let group, let leaseCommand):
            guard let id = streams[namespace]?[name]?.id, var found = consumerGroups[id]?[group] else {
                return .failure(KinesisError(.resourceNotFound, "Consumer group \(group) of stream \(name) not found."))
            }
            // The catalog keeps the shard list itself: a client's view of the shards is never trusted.
            if case .syncShards = leaseCommand { return .success(.group(found)) }
            let outcome = found.leases.apply(leaseCommand)
            consumerGroups[id]![group] = found
            switch outcome {
            case .success(let lease): return .success(lease.map(LeaseOutcome.lease) ?? .none)
            case .failure(let refusal): return .success(.refused(refusal))
            }
        }
    }

    /// After a stream's shards change (a reshard), every group of it learns the new shards and their parents.
    mutating func syncConsumerGroups(of stream: StreamMetadata, atMillis now: Int64) {
        guard var groups = consumerGroups[stream.id] else { return }
        for name in groups.keys { groups[name]!.leases.apply(.syncShards(Self.lineage(of: stream), atMillis: now)) }
        consumerGroups[stream.id] = groups
    }

    /// The Kinesis error a worker gets for a refused lease command.
    static func error(_ refusal: LeaseRefusal) -> KinesisError {
        switch refusal {
        case .unknownShard(let id): KinesisError(.resourceNotFound, "Shard \(id) has no lease in this group.")
        case .tokenMismatch(let current):
            KinesisError(.resourceInUse, "The lease changed hands: its token is now \(current).")
        case .notOwner(let owner): KinesisError(.resourceInUse, "The lease is held by \(owner ?? "nobody").")
        case .expired: KinesisError(.resourceInUse, "The lease expired before it was renewed; take it again.")
        case .parentsUnfinished(let parents):
            KinesisError(
                .invalidArgument,
                "The shard's parents \(parents.joined(separator: ", ")) are not finished yet."
            )
        case .checkpointBehind: KinesisError(.invalidArgument, "A checkpoint may not move backwards.")
        }
    }

    static func lineage(of stream: StreamMetadata) -> [LeaseCommand.ShardLineage] {
        stream.shards.map { shard in
            LeaseCommand.ShardLineage(
                shardID: shard.id.description,
                parents: [shard.parent, shard.adjacentParent].compactMap { $0.map { ShardID(index: $0).description } }
            )
        }
    }
}

/// What a consumer-group command did: refusals of lease commands are answers, not errors, because every replica
/// must agree on them and the worker needs to know it lost its lease.
public enum LeaseOutcome: Sendable, Equatable {
    case none
    case group(ConsumerGroup)
    case lease(Lease)
    case refused(LeaseRefusal)
}

extension Catalog {
    /// Every consumer group with its stream, by stream name and namespace, then group name (admin status).
    public var allConsumerGroups: [(stream: StreamMetadata, group: ConsumerGroup)] {
        allStreams.sorted { ($0.name, $0.namespace.region) < ($1.name, $1.namespace.region) }.flatMap { stream in
            (consumerGroups[stream.id]?.values.sorted { $0.name < $1.name } ?? []).map { (stream: stream, group: $0) }
        }
    }
}
