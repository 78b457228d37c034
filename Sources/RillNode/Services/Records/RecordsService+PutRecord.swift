import RillAPI
import RillKinesis
import RillModel
import RillRouting

extension RecordsService {
    func putRecord(
        _ r: inout RequestReader,
        _ namespace: Namespace,
        reach: Reach,
        producer: ProducerStamp? = nil
    ) async throws -> APIResponse {
        let started = ContinuousClock.now
        let input = try PutRecordInput(reading: &r)
        try producer?.check(recordCount: 1)
        let (data, partitionKey, explicitHashKey, ordering, selector) =
            (input.data, input.partitionKey, input.explicitHashKey, input.sequenceNumberForOrdering, input.selector)
        let (stream, namespace) = try resolve(selector, namespace)
        try checkRecordSize(data: data, key: partitionKey, stream: stream)
        let (shard, hashKey) = try route(
            partitionKey: partitionKey,
            explicitHashKey: explicitHashKey,
            in: shardMaps.map(for: stream),
            of: stream
        )
        // Admitted here when this node leads the shard; otherwise its leader admits the record (`.append`). Asking
        // whether it leads is a hop to the group's owner, skipped when limits are off.
        if throughput.enabled, let lead = try await appender.lead(of: shard, in: stream),
            throughput.admitWrites(stream, shard.id, lead: lead, sizes: [data.count + partitionKey.utf8.count])
                == [false]
        {
            throw ThroughputLimiter.rateExceeded(shard.id, stream)
        }
        if let ordering, SequenceNumber(parsing: ordering) == nil, ordering != "0" {
            throw KinesisError(
                .invalidArgument,
                "ExclusiveMinimumSequenceNumber \(ordering) used in PutRecord on stream \(stream.name) under account "
                    + "\(namespace.account) is invalid."
            )
        }
        // Sequence numbers grow with the log index, so every new record already exceeds any number this
        // shard has issued; SequenceNumberForOrdering needs no extra work on one shard.
        let batch = RecordBatch(records: [.init(partitionKey: partitionKey, data: data)], producer: producer)
        var target = shard
        var appended: RecordPosition
        do {
            appended = try await append(batch, stream: stream, shard: target, reach: reach)
        } catch is ShardSealed {
            // A reshard sealed the shard after we routed; nothing was written, so route again once, by the
            // catalog that shows the reshard.
            let fresh = try await streamAfterSeal(selector, namespace, sealed: [shard.index])
            target = try route(
                partitionKey: partitionKey,
                explicitHashKey: explicitHashKey,
                in: shardMaps.map(for: fresh),
                of: fresh
            ).shard
            appended = try await append(batch, stream: fresh, shard: target, reach: reach)
        }
        // A retry answered from a parent's window (after a reshard) names the parent's copy.
        let (storedIn, sequence) = appended.stored(answeredBy: ShardOrigin(index: target.index, epoch: target.epoch))
        let bytes = data.count + partitionKey.utf8.count
        let now = clock.nowMillis()
        metrics.recordsPut(stream, shard: target.id, records: 1, bytes: bytes, atMillis: now)
        onDemandWrites.record(stream, shard: target.id, bytes: bytes, hashKeys: CollectionOfOne(hashKey))
        metrics.putRecordSucceeded(stream, bytes: bytes, after: started.duration(to: .now), atMillis: now)
        var w = JSONWriter()
        w.beginObject()
        w.key("ShardId")
        w.string(storedIn.name)
        w.key("SequenceNumber")
        w.string(sequence.description)
        if stream.sealingVersion != nil {
            w.key("EncryptionType")
            w.string("KMS")
        }
        w.endObject()
        return APIResponse(w)
    }

    /// Appends one record: as one entry, or for an idempotent producer, through the shard's producer window (a
    /// retry of a committed record gets the position of its first copy).
    private func append(
        _ batch: RecordBatch,
        stream: StreamMetadata,
        shard: ShardMetadata,
        reach: Reach
    ) async throws -> RecordPosition {
        guard batch.producer != nil else {
            let (index, stamp) = try await appender.append(batch, stream: stream, shard: shard, reach: reach)
            return RecordPosition(index: index, slot: 0, stampMillis: stamp)
        }
        let outcomes = try await appender.appendOnce(batch, stream: stream, shard: shard, reach: reach)
        guard let outcome = outcomes.first else { throw KinesisError.internalFailure("no outcome for the record") }
        return try outcome.get()
    }

    func checkRecordSize(data: [UInt8], key: String, stream: StreamMetadata) throws(KinesisError) {
        let limit = stream.maxRecordSizeKiB * 1024
        if data.count > limit {
            var r = RequestReader(JSONObject())
            r.violate(Self.blobValue(data.count), "data", Self.lengthRule(limit))
            try r.finish()
        }
        // The documented limit counts the partition key too; say so rather than misquote the data length.
        if data.count + key.utf8.count > limit {
            throw KinesisError(
                .invalidArgument,
                "Record size (data \(data.count) bytes plus partition key \(key.utf8.count) bytes) exceeds the maximum record "
                    + "size of stream \(stream.name), \(stream.maxRecordSizeKiB) KiB."
            )
        }
    }

    /// How the coral front end quotes a blob it refuses.
    static func blobValue(_ count: Int) -> String { "'java.nio.HeapByteBuffer[pos=0 lim=\(count) cap=\(count)]'" }

    static func lengthRule(_ limit: Int) -> String { "Member must have length less than or equal to \(limit)" }

    /// The open shard of `stream` that holds the record's hash key, as this version of the stream has it
    /// (`ShardMap.route`).
    func route(
        partitionKey: String,
        explicitHashKey: String?,
        in map: ShardMap,
        of stream: StreamMetadata
    ) throws(KinesisError) -> (shard: ShardMetadata, hashKey: HashKey) {
        let hashKey = try RecordRouting.hashKey(partitionKey: partitionKey, explicitHashKey: explicitHashKey)
        let (_, position) = try map.route(hashKey)
        guard stream.shards.indices.contains(position) else {
            throw KinesisError.internalFailure("the shard map of \(stream.name) does not match the stream")
        }
        return (stream.shards[position], hashKey)
    }
}
