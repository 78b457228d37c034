import RillAPI
import RillKinesis
import RillModel

extension ConsumerGroupsService {
    /// Where a group's shards start when they have no checkpoint, as `InitialPosition.Type` names it.
    enum PositionType: String, CaseIterable {
        case trimHorizon = "TRIM_HORIZON"
        case latest = "LATEST"
        case atTimestamp = "AT_TIMESTAMP"
    }

    func createGroup(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let named = try readGroupName(&r)
        let failover = try r.integer(
            "FailoverTimeMillis",
            min: ConsumerGroup.failoverMillisRange.lowerBound,
            max: ConsumerGroup.failoverMillisRange.upperBound
        )
        var position = ConsumerGroup.InitialPosition.trimHorizon
        if let object = try r.object("InitialPosition") {
            let type = try r.enumeration(
                "Type",
                in: object,
                path: "initialPosition.type",
                required: true,
                as: PositionType.self
            )
            let timestamp = try r.timestamp("Timestamp", in: object)
            switch type {
            case .trimHorizon?: position = .trimHorizon
            case .latest?: position = .latest
            case .atTimestamp?:
                guard let timestamp else {
                    throw KinesisError(.invalidArgument, "InitialPosition AT_TIMESTAMP needs a Timestamp.")
                }
                position = .atTimestamp(millis: timestamp)
            case nil: break
            }
        }
        try r.finish()
        guard let selector = named.selector, let name = named.name else {
            throw KinesisError(.invalidArgument, "Either StreamName or StreamARN must be provided.")
        }
        let (stream, namespace) = try resolve(selector, namespace)
        try await commit(
            .consumerGroup(
                .create(
                    namespace: namespace,
                    stream: stream.name,
                    group: name,
                    initialPosition: position,
                    atMillis: clock.nowMillis(),
                    failoverMillis: failover ?? ConsumerGroup.defaultFailoverMillis
                )
            )
        )
        let target = try resolveGroup(named, namespace)
        return describe(target.group, of: target.stream)
    }

    func deleteGroup(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let named = try readGroupName(&r)
        try r.finish()
        let target = try resolveGroup(named, namespace)
        try await commit(
            .consumerGroup(.delete(namespace: target.namespace, stream: target.stream.name, group: target.group.name))
        )
        return .empty
    }

    func describeGroup(_ r: inout RequestReader, _ namespace: Namespace) throws -> APIResponse {
        let named = try readGroupName(&r)
        try r.finish()
        let target = try resolveGroup(named, namespace)
        return describe(target.group, of: target.stream)
    }

    func listGroups(_ r: inout RequestReader, _ namespace: Namespace) throws -> APIResponse {
        let selector = try r.requireStream()
        let (stream, namespace) = try resolve(selector, namespace)
        var w = JSONWriter()
        w.beginObject()
        w.key("ConsumerGroups")
        w.beginArray()
        for group in metadata.catalog.consumerGroups(of: stream.name, in: namespace) {
            writeSummary(group, &w)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return APIResponse(w)
    }

    private func describe(_ group: ConsumerGroup, of stream: StreamMetadata) -> APIResponse {
        let now = clock.nowMillis()
        var w = JSONWriter()
        w.beginObject()
        w.key("ConsumerGroup")
        writeSummary(group, &w)
        w.key("StreamName")
        w.string(stream.name)
        w.key("StreamARN")
        w.string(stream.arn)
        w.key("Leases")
        w.beginArray()
        for lease in group.leases.leases.values.sorted(by: { $0.shardID < $1.shardID }) {
            writeLease(lease, in: group, now: now, &w)
        }
        w.endArray()
        w.endObject()
        w.endObject()
        return APIResponse(w)
    }

    /// Opens the group's object and writes what every answer says of a group; the caller closes it.
    func writeSummary(_ group: ConsumerGroup, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("GroupName")
        w.string(group.name)
        w.key("CreationTimestamp")
        w.timestamp(millis: group.createdMillis)
        w.key("FailoverTimeMillis")
        w.int(group.failoverMillis)
        w.key("InitialPosition")
        w.beginObject()
        w.key("Type")
        switch group.initialPosition {
        case .trimHorizon: w.string(PositionType.trimHorizon.rawValue)
        case .latest: w.string(PositionType.latest.rawValue)
        case .atTimestamp(let millis):
            w.string(PositionType.atTimestamp.rawValue)
            w.key("Timestamp")
            w.timestamp(millis: millis)
        }
        w.endObject()
    }

    /// One lease: its shard and parents, its owner and fencing token while held, and its checkpoint.
    func writeLease(_ lease: Lease, in group: ConsumerGroup, now: Int64, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("ShardId")
        w.string(lease.shardID)
        w.key("ParentShardIds")
        w.beginArray()
        for parent in lease.parents { w.string(parent) }
        w.endArray()
        w.key("LeaseToken")
        w.int(lease.token)
        w.key("Held")
        w.bool(lease.isHeld(atMillis: now))
        if let owner = lease.owner {
            w.key("Owner")
            w.string(owner)
            w.key("LeaseExpiresAt")
            w.timestamp(millis: lease.expiresAtMillis)
        }
        // Finished shards and children whose parents are not finished cannot be taken.
        w.key("Workable")
        w.bool(lease.checkpoint != .shardEnd && group.leases.unfinishedParents(of: lease).isEmpty)
        w.key("Checkpoint")
        w.beginObject()
        switch lease.checkpoint {
        case .initial:
            w.key("Type")
            w.string("INITIAL")
        case .at(let sequenceNumber, let subSequence):
            w.key("Type")
            w.string("AT_SEQUENCE_NUMBER")
            w.key("SequenceNumber")
            w.string(sequenceNumber)
            w.key("SubSequenceNumber")
            w.int(subSequence)
        case .shardEnd:
            w.key("Type")
            w.string("SHARD_END")
        }
        w.endObject()
        w.endObject()
    }
}
