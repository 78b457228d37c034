import RillAPI
import RillKinesis
import RillModel

enum ScalingType: String, CaseIterable {
    case uniformScaling = "UNIFORM_SCALING"
}

extension StreamsService {
    func splitShard(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let shardText = try r.string("ShardToSplit", required: true, min: 1, max: 128, pattern: .shardId)
        let keyText = try r.string("NewStartingHashKey", required: true, pattern: .hashKey)
        let selector = try r.requireStream()
        guard let shardText, let keyText else { throw KinesisError(.validation, "ShardToSplit is required") }
        let (stream, namespace) = try resolve(selector, namespace)
        try requireProvisioned(stream)
        let shard = try openShard(shardText, in: stream, namespace)
        guard case .valid(let key) = HashKey.parse(keyText) else {
            throw KinesisError(.invalidArgument, "NewStartingHashKey \(keyText) is not a valid hash key.")
        }
        let range = shard.hashRange
        // AWS's bound, as captured: strictly above start + 1 and below end.
        guard key.rawValue > range.start.rawValue &+ 1, key < range.end else {
            throw KinesisError(
                .invalidArgument,
                "NewStartingHashKey \(keyText) used in SplitShard() on shard \(shard.id.name) in stream \(stream.name) under "
                    + "account \(namespace.account) is not both greater than one plus the shard's StartingHashKey "
                    + "\(range.start) and less than the shard's EndingHashKey \(range.end)."
            )
        }
        try checkShardLimit(adding: 1, namespace)
        try await split(stream, shard, at: key, namespace)
        return .empty
    }

    func mergeShards(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let firstText = try r.string("ShardToMerge", required: true, min: 1, max: 128, pattern: .shardId)
        let secondText = try r.string("AdjacentShardToMerge", required: true, min: 1, max: 128, pattern: .shardId)
        let selector = try r.requireStream()
        guard let firstText, let secondText else { throw KinesisError(.validation, "ShardToMerge is required") }
        let (stream, namespace) = try resolve(selector, namespace)
        try requireProvisioned(stream)
        let first = try openShard(firstText, in: stream, namespace)
        let second = try openShard(secondText, in: stream, namespace)
        let (a, b) = (first.hashRange, second.hashRange)
        // No wrapping arithmetic: the last shard's end + 1 must not "touch" the first shard's start.
        let adjacent =
            (a.end < .max && a.end.rawValue + 1 == b.start.rawValue)
            || (b.end < .max && b.end.rawValue + 1 == a.start.rawValue)
        guard adjacent, first.index != second.index else {
            throw KinesisError(
                .invalidArgument,
                "Shards \(first.id.name) and \(second.id.name) in stream \(stream.name) under account \(namespace.account) "
                    + "are not an adjacent pair of shards eligible for merging"
            )
        }
        try await merge(stream, first, second, namespace)
        return .empty
    }

    func updateShardCount(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let target = try r.integer("TargetShardCount", required: true, min: 1)
        _ = try r.enumeration("ScalingType", required: true, as: ScalingType.self)
        let selector = try r.requireStream()
        guard let target else { throw KinesisError(.validation, "TargetShardCount is required") }
        var (stream, namespace) = try resolve(selector, namespace)
        try requireProvisioned(stream)
        let current = stream.openShards.count
        guard target <= current * 2, target * 2 >= current, target <= 10_000 else {
            throw KinesisError(
                .invalidArgument,
                "UpdateShardCount on stream \(stream.name) under account \(namespace.account) may only scale between half "
                    + "and double the current open shard count (\(current)); requested \(target)."
            )
        }
        try checkShardLimit(adding: max(0, Int(target) - current), namespace)
        let boundaries = HashRange.evenSplit(count: Int(target)).dropFirst().map(\.start)
        // First split every open shard at each new boundary strictly inside it, then merge neighbours
        // until each open shard is exactly one target range: every step is a real split or merge, so
        // no child ever has more than two parents (KCL's lineage model).
        for boundary in boundaries {
            stream = try currentStream(stream, namespace)
            guard let shard = stream.openShard(for: boundary), shard.hashRange.start != boundary else { continue }
            try await split(stream, shard, at: boundary, namespace)
        }
        let targets = HashRange.evenSplit(count: Int(target))
        for range in targets {
            while true {
                stream = try currentStream(stream, namespace)
                let pieces = stream.openShards.filter { range.contains($0.hashRange.start) }.sorted {
                    $0.hashRange.start < $1.hashRange.start
                }
                guard pieces.count > 1 else { break }
                try await merge(stream, pieces[0], pieces[1], namespace)
            }
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("StreamName")
        w.string(stream.name)
        w.key("CurrentShardCount")
        w.int(current)
        w.key("TargetShardCount")
        w.int(target)
        w.key("StreamARN")
        w.string(stream.arn)
        w.endObject()
        return APIResponse(w)
    }

    // MARK: - Steps

    func split(
        _ stream: StreamMetadata,
        _ shard: ShardMetadata,
        at key: HashKey,
        _ namespace: Namespace
    ) async throws {
        let range = shard.hashRange
        try await reshard(
            stream,
            parents: [shard],
            children: [
                .init(startingHashKey: range.start.description, endingHashKey: HashKey(key.rawValue - 1).description),
                .init(startingHashKey: key.description, endingHashKey: range.end.description),
            ],
            namespace
        )
    }

    func merge(
        _ stream: StreamMetadata,
        _ first: ShardMetadata,
        _ second: ShardMetadata,
        _ namespace: Namespace
    ) async throws {
        let low = min(first.hashRange.start, second.hashRange.start)
        let high = max(first.hashRange.end, second.hashRange.end)
        try await reshard(
            stream,
            parents: [first, second],
            children: [.init(startingHashKey: low.description, endingHashKey: high.description)],
            namespace
        )
    }

    /// Seals every parent in its log, then commits the catalog change that closes them and opens the children.
    private func reshard(
        _ stream: StreamMetadata,
        parents: [ShardMetadata],
        children: [ReshardCommand.Child],
        _ namespace: Namespace
    ) async throws {
        // Children are placed like any new shard: with no members to place them on, nothing is sealed.
        guard metadata.catalog.canPlace else { throw Catalog.notPlaceable }
        let now = clock.nowMillis()
        var sealed: [ReshardCommand.Parent] = []
        for parent in parents {
            let index = try await replicas.sealShard(stream: stream, shard: parent)
            sealed.append(ReshardCommand.Parent(index: parent.index, sealIndex: index.rawValue))
        }
        // Children sort above their parents even if the wall clock went backwards.
        let epoch = max(UInt64(max(0, now / 1000)), (parents.map(\.epoch).max() ?? 0) + 1)
        let command = ReshardCommand(
            namespace: namespace,
            name: stream.name,
            parents: sealed,
            children: children,
            epoch: epoch,
            millis: now
        )
        do {
            try await commit(.reshard(command))
        } catch {
            // Reopens the parents led here. A parent led elsewhere stays refusing writes until its leader
            // restarts or changes (the catalog, which still says open, then wins).
            for parent in sealed { replicas.reopen(streamID: stream.id, shard: parent.index) }
            throw error
        }
        let updated = try currentStream(stream, namespace)
        try await replicas.openHeldReplicas(
            of: updated,
            shards: updated.shards.filter { $0.createdMillis == now && $0.isOpen }
        )
        logger.info(
            "resharded",
            metadata: [
                "rill.stream": "\(stream.name)", "parents": "\(parents.map(\.id.name))",
                "children": "\(children.count)",
            ]
        )
    }

    func currentStream(_ stream: StreamMetadata, _ namespace: Namespace) throws(KinesisError) -> StreamMetadata {
        guard let current = metadata.catalog.stream(stream.name, in: namespace), current.id == stream.id else {
            throw KinesisError.streamNotFound(stream.name, account: namespace.account)
        }
        return current
    }

    private func requireProvisioned(_ stream: StreamMetadata) throws(KinesisError) {
        guard stream.mode == .provisioned else {
            throw KinesisError.onDemandNotReshardable(stream.name, account: stream.namespace.account)
        }
    }

    private func openShard(
        _ text: String,
        in stream: StreamMetadata,
        _ namespace: Namespace
    ) throws(KinesisError) -> ShardMetadata {
        guard let id = ShardID(parsing: text), let shard = stream.shard(id) else {
            throw KinesisError(
                .resourceNotFound,
                "Could not find shard \(text) in stream \(stream.name) under account \(namespace.account)."
            )
        }
        guard shard.isOpen else {
            throw KinesisError.shardNotEligible(shard.id.name, stream: stream.name, account: namespace.account)
        }
        return shard
    }

    func checkShardLimit(adding count: Int, _ namespace: Namespace) throws(KinesisError) {
        let open = metadata.catalog.openShardCount(in: namespace)
        if open + count > Catalog.shardLimit {
            throw KinesisError(
                .limitExceeded,
                "This request would exceed the shard limit for the account \(namespace.account) in \(namespace.region). "
                    + "Current shard count for the account: \(open). Limit: \(Catalog.shardLimit). Number of additional "
                    + "shards that would have resulted from this request: \(count). Refer to the AWS Service Limits page "
                    + "(https://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how "
                    + "to request higher limits."
            )
        }
    }
}
