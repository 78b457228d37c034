import RillAPI
import RillKinesis
import RillModel

extension StreamsService {
    func createStream(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let name = try r.string("StreamName", required: true, min: 1, max: 128, pattern: .streamName)
        let shardCount = try r.integer("ShardCount", min: 1, max: 100_000)
        let mode = try r.streamModeDetails(required: false)
        let tags = try r.stringMap("Tags", min: 1, max: 200)
        let warm = try r.integer("WarmThroughputMiBps", min: 0)
        let maxRecordSize = try r.integer("MaxRecordSizeInKiB", min: 1024, max: 10240)
        try r.finish()
        guard let name else { throw KinesisError(.validation, "StreamName is required") }
        let streamMode = mode ?? .provisioned
        if warm != nil, streamMode != .onDemand {
            throw KinesisError(.invalidArgument, "Warm throughput can only be set on streams in ON_DEMAND mode.")
        }
        let count: Int
        switch streamMode {
        case .onDemand: count = 4
        case .provisioned:
            guard let shardCount else {
                throw KinesisError(.invalidArgument, "ShardCount is required for a stream in PROVISIONED mode.")
            }
            count = Int(shardCount)
        }
        if let tags { try TagRules.validate(tags.map(\.key), values: tags.map(\.value)) }
        let catalog = metadata.catalog
        if catalog.stream(name, in: namespace) != nil {
            throw KinesisError.streamExists(name, account: namespace.account)
        }
        // Checked again where the command applies; refusing here spares a metadata entry.
        guard catalog.canPlace else { throw Catalog.notPlaceable }
        try checkShardLimit(adding: count, namespace)
        if streamMode == .onDemand, catalog.onDemandStreamCount(in: namespace) >= Catalog.onDemandStreamLimit {
            throw KinesisError(.limitExceeded, "This request would exceed the on-demand stream limit for the account.")
        }
        let now = clock.nowMillis()
        let create = CreateStreamCommand(
            namespace: namespace,
            name: name,
            id: StreamIDs.make(),
            shardCount: count,
            mode: streamMode,
            createdMillis: now,
            epoch: UInt64(max(0, now / 1000)),
            tags: Dictionary(tags ?? [], uniquingKeysWith: { _, new in new }),
            maxRecordSizeKiB: Int(maxRecordSize ?? 1024)
        )
        try await commit(.createStream(create))
        // The controller keeps a warm stream at one shard per MiB/s at least (architecture.md, "On-demand scaling").
        if let warm { try await commit(.setWarmThroughput(namespace: namespace, name: name, mibps: Int(warm))) }
        if let stream = metadata.catalog.stream(name, in: namespace) {
            try await replicas.openHeldReplicas(of: stream, shards: stream.shards)
        }
        logger.info("stream created", metadata: ["rill.stream": "\(name)", "shards": "\(count)"])
        return .empty
    }

    func deleteStream(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        _ = try r.bool("EnforceConsumerDeletion")
        let selector = try r.requireStream()
        let (stream, namespace) = try resolve(selector, namespace)
        try await commit(.deleteStream(namespace: namespace, name: stream.name))
        await replicas.dropReplicas(streamID: stream.id)
        metrics.streamDeleted(stream.name)
        logger.info("stream deleted", metadata: ["rill.stream": "\(stream.name)"])
        return .empty
    }

    func listStreams(_ r: inout RequestReader, _ namespace: Namespace) throws -> APIResponse {
        let limit = try r.integer("Limit", min: 1, max: 10_000)
        var start = try r.string("ExclusiveStartStreamName", min: 1, max: 128, pattern: .streamName)
        let token = try r.string("NextToken", min: 1, max: 1_048_576)
        try r.finish()
        if let token {
            guard let decoded = PageToken.decode(token, now: clock.nowMillis()) else {
                throw KinesisError(.invalidArgument, "Invalid NextToken.")
            }
            guard case .live(let fields) = decoded, let after = fields.first else {
                throw KinesisError(.expiredNextToken, "The timestamp sent is older than the expiration time.")
            }
            start = after
        }
        let pageSize = min(Int(limit ?? 100), 100)
        let streams = metadata.catalog.streams(in: namespace).filter { start == nil || $0.name > start! }
        let page = streams.prefix(pageSize)
        let hasMore = streams.count > page.count
        var w = JSONWriter()
        w.beginObject()
        w.key("StreamNames")
        w.beginArray()
        for stream in page { w.string(stream.name) }
        w.endArray()
        w.key("HasMoreStreams")
        w.bool(hasMore)
        if hasMore, let last = page.last {
            w.key("NextToken")
            w.string(PageToken.encode([last.name], now: clock.nowMillis()))
        }
        w.key("StreamSummaries")
        w.beginArray()
        for stream in page {
            w.beginObject()
            w.key("StreamName")
            w.string(stream.name)
            w.key("StreamARN")
            w.string(stream.arn)
            w.key("StreamStatus")
            w.string(stream.status.rawValue)
            w.key("StreamModeDetails")
            writeMode(stream, &w)
            w.key("StreamCreationTimestamp")
            w.timestamp(millis: stream.createdMillis)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return APIResponse(w)
    }

    func describeStream(_ r: inout RequestReader, _ namespace: Namespace) throws -> APIResponse {
        let limit = try r.integer("Limit", min: 1, max: 10_000)
        let exclusiveStart = try r.string("ExclusiveStartShardId", min: 1, max: 128, pattern: .shardId)
        let selector = try r.requireStream()
        let (stream, _) = try resolve(selector, namespace)
        let visible = visibleShards(stream)
        let after = exclusiveStart.flatMap { ShardID(parsing: $0) }
        let candidates = visible.filter { after == nil || $0.index > after!.index }
        let page = candidates.prefix(min(Int(limit ?? 100), 100))
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.key("StreamDescription")
        w.beginObject()
        writeStreamIdentity(stream, &w)
        w.key("Shards")
        w.beginArray()
        for shard in page { writeShard(shard, &w) }
        w.endArray()
        w.key("HasMoreShards")
        w.bool(candidates.count > page.count)
        writeStreamSettings(stream, &w)
        w.endObject()
        w.endObject()
        return APIResponse(w)
    }

    func describeStreamSummary(_ r: inout RequestReader, _ namespace: Namespace) throws -> APIResponse {
        let selector = try r.requireStream()
        let (stream, _) = try resolve(selector, namespace)
        var w = JSONWriter(capacity: 512)
        w.beginObject()
        w.key("StreamDescriptionSummary")
        w.beginObject()
        writeStreamIdentity(stream, &w)
        writeStreamSettings(stream, &w)
        w.key("OpenShardCount")
        w.int(stream.openShards.count)
        w.key("ConsumerCount")
        w.int(stream.consumers?.count ?? 0)
        w.key("MaxRecordSizeInKiB")
        w.int(stream.maxRecordSizeKiB)
        if let warm = stream.warmThroughputMiBps {
            w.key("WarmThroughput")
            w.beginObject()
            w.key("TargetMiBps")
            w.int(warm)
            // What the stream can take now: 1 MiB/s per open shard, below the target while the controller splits.
            w.key("CurrentMiBps")
            w.int(min(warm, stream.openShards.count))
            w.endObject()
        }
        w.endObject()
        w.endObject()
        return APIResponse(w)
    }

    // MARK: - Shared shapes

    /// Shards a description lists: open ones, and closed ones still holding data within retention.
    func visibleShards(_ stream: StreamMetadata) -> [ShardMetadata] {
        let horizon = clock.nowMillis() - Int64(stream.retentionHours) * 3_600_000
        return stream.shards.filter { $0.closedMillis.map { $0 >= horizon } ?? true }
    }

    /// The members DescribeStream and DescribeStreamSummary open with.
    func writeStreamIdentity(_ stream: StreamMetadata, _ w: inout JSONWriter) {
        w.key("StreamName")
        w.string(stream.name)
        w.key("StreamARN")
        w.string(stream.arn)
        w.key("StreamStatus")
        w.string(stream.status.rawValue)
        w.key("StreamModeDetails")
        writeMode(stream, &w)
    }

    /// Retention, creation time, monitoring and encryption, as both descriptions give them.
    func writeStreamSettings(_ stream: StreamMetadata, _ w: inout JSONWriter) {
        w.key("RetentionPeriodHours")
        w.int(stream.retentionHours)
        w.key("StreamCreationTimestamp")
        w.timestamp(millis: stream.createdMillis)
        w.key("EnhancedMonitoring")
        writeEnhancedMonitoring(stream, &w)
        writeEncryption(stream, &w)
    }

    func writeMode(_ stream: StreamMetadata, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("StreamMode")
        w.string(stream.mode.rawValue)
        w.endObject()
    }

    func writeEnhancedMonitoring(_ stream: StreamMetadata, _ w: inout JSONWriter) {
        w.beginArray()
        w.beginObject()
        w.key("ShardLevelMetrics")
        w.beginArray()
        for metric in stream.enhancedMetrics ?? [] { w.string(metric) }
        w.endArray()
        w.endObject()
        w.endArray()
    }

    func writeEncryption(_ stream: StreamMetadata, _ w: inout JSONWriter) {
        w.key("EncryptionType")
        // KMS only when new records really are sealed (a data key exists), never on a promise.
        w.string(stream.sealingVersion == nil ? "NONE" : "KMS")
        if stream.sealingVersion != nil, let key = stream.encryptionKeyId {
            w.key("KeyId")
            w.string(key)
        }
    }

    func writeShard(_ shard: ShardMetadata, _ w: inout JSONWriter) {
        w.beginObject()
        w.key("ShardId")
        w.string(shard.id.name)
        if let parent = shard.parent {
            w.key("ParentShardId")
            w.string(ShardID(index: parent).name)
        }
        if let adjacent = shard.adjacentParent {
            w.key("AdjacentParentShardId")
            w.string(ShardID(index: adjacent).name)
        }
        w.key("HashKeyRange")
        w.beginObject()
        w.key("StartingHashKey")
        w.string(shard.startingHashKey)
        w.key("EndingHashKey")
        w.string(shard.endingHashKey)
        w.endObject()
        w.key("SequenceNumberRange")
        w.beginObject()
        w.key("StartingSequenceNumber")
        w.string(shard.startingSequenceNumber.description)
        if let end = shard.endingSequenceNumber {
            w.key("EndingSequenceNumber")
            w.string(end.description)
        }
        w.endObject()
        w.endObject()
    }
}

/// Stream ids in the model's StreamId shape, `[a-z0-9]{20}-[a-z0-9]{3}`; they also name data folders.
enum StreamIDs {
    static func make() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        let head = String((0..<20).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
        let tail = String((0..<3).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
        return head + "-" + tail
    }
}
