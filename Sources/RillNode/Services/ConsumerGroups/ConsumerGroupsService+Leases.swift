import RillAPI
import RillKinesis
import RillModel

extension ConsumerGroupsService {
    /// AcquireLeases: the worker's share of the group's shards, as the KCL's balancing rule decides it here, on
    /// the metadata leader (`LeaseBalancer`): first leases nobody holds (free, or expired after the failover
    /// time), then, still short of its share, one lease from the busiest worker. Answers every lease the worker
    /// holds afterwards and still has work in (finished shards left out), with the tokens its renewals and
    /// checkpoints must carry. A worker calls it when it starts
    /// and then about every failover time, so a new worker gets its share and a dead one's shards move.
    func acquireLeases(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let named = try readGroupName(&r)
        let worker = try r.workerID()
        try r.finish()
        guard let worker else { throw KinesisError(.invalidArgument, "WorkerId must be provided.") }
        let target = try resolveGroup(named, namespace)
        let plan = LeaseBalancer.plan(
            target.group.leases,
            worker: worker,
            atMillis: clock.nowMillis(),
            maxTakesPerRound: target.group.leases.leases.count,
            ordering: LeaseBalancer.spread(for: worker)
        )
        for take in plan {
            do {
                try await commit(
                    .take(
                        shardID: take.shardID,
                        worker: worker,
                        expectedToken: take.expectedToken,
                        atMillis: clock.nowMillis(),
                        durationMillis: target.group.failoverMillis
                    ),
                    target
                )
            } catch let error as KinesisError where error.code == .resourceInUse {
                // Another worker's take or release of this lease committed first: the table is fenced by token,
                // so the lease went to exactly one of them. The next round looks again.
                continue
            }
        }
        let group = try current(target)
        let now = clock.nowMillis()
        var w = JSONWriter()
        w.beginObject()
        w.key("FailoverTimeMillis")
        w.int(group.failoverMillis)
        w.key("Leases")
        w.beginArray()
        for lease in group.leases.leases.values.sorted(by: { $0.shardID < $1.shardID })
        where lease.owner == worker && lease.isHeld(atMillis: now) && lease.checkpoint != .shardEnd {
            writeLease(lease, in: group, now: now, &w)
        }
        w.endArray()
        w.endObject()
        return APIResponse(w)
    }

    /// RenewLease: keeps a held lease for another failover time. Refused (ResourceInUseException) once the lease
    /// changed hands or expired: the worker must stop processing the shard.
    func renewLease(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let (target, worker, shard, token) = try readLeaseCall(&r, namespace)
        try await commit(
            .renew(
                shardID: shard,
                worker: worker,
                token: token,
                atMillis: clock.nowMillis(),
                durationMillis: target.group.failoverMillis
            ),
            target
        )
        return try answerLease(shard, target)
    }

    /// ReleaseLease: gives a lease up (a worker shutting down), so another worker takes it at once rather than
    /// after the failover time.
    func releaseLease(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let (target, worker, shard, token) = try readLeaseCall(&r, namespace)
        try await commit(.release(shardID: shard, worker: worker, token: token), target)
        return .empty
    }

    /// Checkpoint: every record of the shard up to (SequenceNumber, SubSequenceNumber) is processed, or with
    /// `ShardEnd` the closed shard is finished and its children may be leased. Written with the lease's token, so
    /// a worker that lost the lease cannot overwrite its successor's progress; checkpoints only move forward.
    func checkpoint(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let named = try readGroupName(&r)
        let worker = try r.workerID()
        let (shardID, token) = try r.leaseHandle()
        let sequenceText = try r.string("SequenceNumber", min: 1, max: 128, pattern: .sequenceNumber)
        let subSequence = try r.integer("SubSequenceNumber", min: 0)
        let shardEnd = try r.bool("ShardEnd") ?? false
        try r.finish()
        guard let worker, let shardID, let token else { throw KinesisError(.invalidArgument, "Invalid ShardId.") }
        let target = try resolveGroup(named, namespace)
        guard let shard = target.stream.shard(shardID) else {
            throw KinesisError(.resourceNotFound, "Shard \(shardID.name) in stream \(target.stream.name) not found.")
        }
        let checkpoint: Checkpoint
        switch (sequenceText, shardEnd) {
        case (nil, true):
            guard !shard.isOpen else {
                throw KinesisError(
                    .invalidArgument,
                    "Shard \(shardID.name) is open: only a closed shard read to its end can be checkpointed as ShardEnd."
                )
            }
            checkpoint = .shardEnd
        case (let text?, false):
            // The number must name a position in this shard: its epoch and shard index are inside it.
            guard let number = SequenceNumber(parsing: text), number.epoch == shard.epoch,
                number.shardIndex == shard.index
            else {
                throw KinesisError(
                    .invalidArgument,
                    "SequenceNumber \(text) is not a sequence number of shard \(shardID.name)."
                )
            }
            checkpoint = .at(sequenceNumber: number.description, subSequence: UInt64(subSequence ?? 0))
        default:
            throw KinesisError(.invalidArgument, "Give either SequenceNumber (and SubSequenceNumber) or ShardEnd.")
        }
        try await commit(.checkpoint(shardID: shardID.name, worker: worker, token: token, checkpoint), target)
        return try answerLease(shardID.name, target)
    }

    /// The members every call on one lease carries, read and checked.
    private func readLeaseCall(
        _ r: inout RequestReader,
        _ namespace: Namespace
    ) throws(KinesisError) -> (Target, String, String, UInt64) {
        let named = try readGroupName(&r)
        let worker = try r.workerID()
        let (shardID, token) = try r.leaseHandle()
        try r.finish()
        guard let worker, let shardID, let token else { throw KinesisError(.invalidArgument, "Invalid ShardId.") }
        return (try resolveGroup(named, namespace), worker, shardID.name, token)
    }

    /// `{"Lease": ...}` as the catalog holds it after the call's command applied.
    private func answerLease(_ shard: String, _ target: Target) throws(KinesisError) -> APIResponse {
        let group = try current(target)
        guard let lease = group.leases.leases[shard] else {
            throw KinesisError(.resourceNotFound, "Shard \(shard) has no lease in this group.")
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("Lease")
        writeLease(lease, in: group, now: clock.nowMillis(), &w)
        w.endObject()
        return APIResponse(w)
    }
}
