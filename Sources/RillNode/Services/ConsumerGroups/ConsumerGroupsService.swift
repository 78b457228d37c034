import RillAPI
import RillKinesis
import RillModel

/// Consumer groups (docs/consumers.md): workers share a stream's shards through leases kept in the catalog,
/// and record how far they got with fenced checkpoints. Every call is a catalog read or a catalog command on the
/// metadata leader; the leader's wall clock is the time every lease is judged by (the pure `LeaseTable` and
/// `LeaseBalancer` take it as an input).
struct ConsumerGroupsService: CatalogService {
    let metadata: any CatalogView
    let proposer: any MetadataProposer
    /// Lease expiry, balancing and creation times.
    let clock: any WallClock

    /// A group a call names, with its stream and namespace as resolved here.
    struct Target {
        var stream: StreamMetadata
        var namespace: Namespace
        var group: ConsumerGroup
    }

    /// The stream and `GroupName` a call names, read before its other members.
    struct GroupName {
        var selector: StreamSelector?
        var name: String?
    }

    func readGroupName(_ r: inout RequestReader) throws(KinesisError) -> GroupName {
        GroupName(
            selector: try r.streamSelector(),
            name: try r.string("GroupName", required: true, min: 1, max: 128, pattern: .streamName)
        )
    }

    /// Finds the group a call names in the catalog as applied here (call after `RequestReader.finish`).
    func resolveGroup(_ named: GroupName, _ namespace: Namespace) throws(KinesisError) -> Target {
        guard let selector = named.selector else {
            throw KinesisError(.invalidArgument, "Either StreamName or StreamARN must be provided.")
        }
        let (stream, namespace) = try resolve(selector, namespace)
        guard let name = named.name, let group = metadata.catalog.consumerGroup(name, of: stream.name, in: namespace)
        else {
            throw KinesisError(
                .resourceNotFound,
                "Consumer group \(named.name ?? "") of stream \(stream.name) under account \(namespace.account) not found."
            )
        }
        return Target(stream: stream, namespace: namespace, group: group)
    }

    /// Commits one lease command of `target`'s group; a refusal comes back as the KinesisError the catalog gives it.
    func commit(_ command: LeaseCommand, _ target: Target) async throws {
        try await commit(
            .consumerGroup(
                .lease(namespace: target.namespace, stream: target.stream.name, group: target.group.name, command)
            )
        )
    }

    /// The group as the catalog holds it now (after a command applied here).
    func current(_ target: Target) throws(KinesisError) -> ConsumerGroup {
        guard
            let group = metadata.catalog.consumerGroup(target.group.name, of: target.stream.name, in: target.namespace)
        else {
            throw KinesisError(.resourceNotFound, "Consumer group \(target.group.name) was deleted.")
        }
        return group
    }
}

extension RequestReader {
    /// `WorkerId`: any text of 1 to 256 characters that names one worker process (host and pid, say).
    mutating func workerID() throws(KinesisError) -> String? {
        try string("WorkerId", required: true, min: 1, max: 256)
    }

    /// `ShardId` and `LeaseToken`, which every call on one lease names.
    mutating func leaseHandle() throws(KinesisError) -> (shard: ShardID?, token: UInt64?) {
        let text = try string("ShardId", required: true, min: 1, max: 128, pattern: .shardId)
        let token = try integer("LeaseToken", required: true, min: 0)
        return (text.flatMap { ShardID(parsing: $0) }, token.map { UInt64($0) })
    }
}
