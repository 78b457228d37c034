import RillKinesis
import RillModel

extension Node {
    /// One record of a put, routed to its shard.
    struct RoutedRecord: Sendable {
        var requestSlot: Int
        var shard: ShardMetadata
        var record: RecordBatch.Record
        var explicitHashKey: String?
    }

    static let maxPutRecordsBytes = 10 << 20

    func putRecord(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let started = ContinuousClock.now
        let data = try r.blob("Data", required: true, max: 10_485_760)
        let partitionKey = try r.string("PartitionKey", required: true, min: 1, max: 256)
        let explicitHashKey = try r.string("ExplicitHashKey", pattern: .hashKey)
        let ordering = try r.string("SequenceNumberForOrdering", pattern: .sequenceNumber)
        let selector = try r.requireStream()
        guard let data, let partitionKey else { throw KinesisError(.validation, "Data and PartitionKey are required") }
        let (stream, namespace) = try resolve(selector, namespace)
        try checkRecordSize(data: data, key: partitionKey, stream: stream)
        let shard = try route(partitionKey: partitionKey, explicitHashKey: explicitHashKey, in: shardMap(stream), of: stream)
        guard admitWrite(stream, shard.id, bytes: data.count + partitionKey.utf8.count) else {
            throw Self.rateExceeded(shard.id, stream)
        }
        if let ordering, SequenceNumber(parsing: ordering) == nil, ordering != "0" {
            throw KinesisError(
                .invalidArgument,
                "ExclusiveMinimumSequenceNumber \(ordering) used in PutRecord on stream \(stream.name) under account "
                    + "\(namespace.account) is invalid.")
        }
        // Sequence numbers grow with the log index, so every new record already exceeds any number this
        // shard has issued; SequenceNumberForOrdering needs no extra work on one shard.
        let batch = RecordBatch(records: [.init(partitionKey: partitionKey, data: data)])
        var target = shard
        var appended: (LogIndex, Int64)
        do {
            appended = try await appendDurably(batch, stream: stream, shard: target)
        } catch is ShardReplica.Sealed {
            // A reshard sealed the shard after we routed; nothing was written, so route again once.
            let (fresh, _) = try resolve(selector, namespace)
            target = try route(partitionKey: partitionKey, explicitHashKey: explicitHashKey, in: shardMap(fresh), of: fresh)
            appended = try await appendDurably(batch, stream: fresh, shard: target)
        }
        let (index, stamp) = appended
        metrics.recordsPut(stream: stream.name, shard: target.id, records: 1, bytes: data.count + partitionKey.utf8.count)
        metrics.putRecordSucceeded(stream: stream.name, after: started.duration(to: .now))
        var w = JSONWriter()
        w.beginObject()
        w.key("ShardId"); w.string(target.id.name)
        w.key("SequenceNumber"); w.string(target.sequenceNumber(index: index, slot: 0, stampMillis: stamp).description)
        w.endObject()
        return APIResponse(w)
    }

    func putRecords(
        _ r: inout RequestReader, _ namespace: Namespace, replyProtocol: WireProtocol = .json
    ) async throws -> APIResponse {
        let started = ContinuousClock.now
        let items = try r.array("Records", required: true, min: 1, max: 500) ?? []
        var entries: [(data: [UInt8], key: String, explicit: String?)] = []
        entries.reserveCapacity(items.count)
        for (offset, item) in items.enumerated() {
            let base = "records.\(offset + 1).member"
            guard case .object(let object) = item else { throw RequestReader.typeError(item, "a Structure") }
            let data = try r.blob("Data", in: object, path: base + ".data", required: true, max: 10_485_760)
            let explicit = try r.string("ExplicitHashKey", in: object, path: base + ".explicitHashKey", pattern: .hashKey)
            let key = try r.string("PartitionKey", in: object, path: base + ".partitionKey", required: true, min: 1, max: 256)
            entries.append((data ?? [], key ?? "", explicit))
        }
        let selector = try r.requireStream()
        let (stream, namespace) = try resolve(selector, namespace)
        var total = 0
        var routed: [RoutedRecord] = []
        routed.reserveCapacity(entries.count)
        let map = shardMap(stream)
        for (slot, entry) in entries.enumerated() {
            try checkRecordSize(data: entry.data, key: entry.key, stream: stream)
            total += entry.data.count + entry.key.utf8.count
            let shard = try route(partitionKey: entry.key, explicitHashKey: entry.explicit, in: map, of: stream)
            routed.append(
                RoutedRecord(requestSlot: slot, shard: shard, record: .init(partitionKey: entry.key, data: entry.data), explicitHashKey: entry.explicit))
        }
        if total > Self.maxPutRecordsBytes {
            throw KinesisError(.invalidArgument, "Records size exceeds 10 MB limit")
        }
        // Records over their shard's throughput limit fail alone, as values; the rest are written.
        var throttled: [Int: KinesisError] = [:]
        let admitted = routed.filter { record in
            if admitWrite(stream, record.shard.id, bytes: record.record.data.count + record.record.partitionKey.utf8.count) {
                return true
            }
            throttled[record.requestSlot] = Self.rateExceeded(record.shard.id, stream)
            return false
        }
        // One entry per shard, appended in parallel; records keep request order within their shard.
        var results = [(shard: ShardID, sequence: SequenceNumber)?](repeating: nil, count: routed.count)
        let outcome = try await appendRouted(admitted, stream: stream, selector: selector, namespace: namespace)
        for (slot, shard, sequence) in outcome.written {
            results[slot] = (shard, sequence)
        }
        // A definite error that hit every record (the stream went away) fails the whole call, as in Kinesis;
        // unknown outcomes stay per record, so the other shards' records still count.
        if outcome.written.isEmpty, throttled.isEmpty, let failure = outcome.failed.values.first,
            failure.code != .internalFailure
        { throw failure }
        throttled.merge(outcome.failed) { first, _ in first }
        metrics.putRecordsSucceeded(stream: stream.name, after: started.duration(to: .now))
        // Written straight into the client's encoding, as GetRecords is.
        switch replyProtocol {
        case .json:
            var w = JSONWriter(capacity: 128 * routed.count + 64)
            Self.writePutRecordsReply(results, throttled, &w)
            return APIResponse(w)
        case .cbor:
            var w = CBORWriter(capacity: 112 * routed.count + 64)
            Self.writePutRecordsReply(results, throttled, &w)
            return APIResponse(w)
        }
    }

    private static func writePutRecordsReply(
        _ results: [(shard: ShardID, sequence: SequenceNumber)?], _ throttled: [Int: KinesisError], _ w: inout some ResponseWriter
    ) {
        w.beginObject()
        w.key("FailedRecordCount"); w.int(results.count { $0 == nil })
        w.key("Records")
        w.beginArray()
        for (slot, result) in results.enumerated() {
            w.beginObject()
            if let result {
                w.key("SequenceNumber"); w.string(result.sequence.description)
                w.key("ShardId"); w.string(result.shard.name)
            } else if let error = throttled[slot] {
                w.key("ErrorCode"); w.string(error.code.rawValue)
                w.key("ErrorMessage"); w.string(error.message ?? "")
            } else {
                w.key("ErrorCode"); w.string("InternalFailure")
                w.key("ErrorMessage"); w.string("Internal Service Failure")
            }
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }

    /// What became of the routed records of one PutRecords.
    struct AppendOutcome {
        var written: [(slot: Int, shard: ShardID, sequence: SequenceNumber)] = []
        /// Records of a shard whose append failed (InternalFailure when the outcome is unknown): a failure per
        /// record, as Kinesis reports it, while the other shards' records succeed.
        var failed: [Int: KinesisError] = [:]
    }

    /// Appends routed records, one entry per shard and all shards in parallel. Records refused by a
    /// shard that a reshard sealed meanwhile (nothing written) are routed again, once, by the new map.
    func appendRouted(
        _ routed: [RoutedRecord], stream: StreamMetadata, selector: StreamSelector, namespace: Namespace, rerouted: Bool = false
    ) async throws -> AppendOutcome {
        let groups = Dictionary(grouping: routed, by: \.shard.index)
        if Forwarding.isForwarded, cluster != nil {
            // A router sent this call here because it thought this node leads these shards. If it does not, say
            // so before writing anything, so the router can send the whole call on instead of failing records.
            for records in groups.values {
                let shard = records[0].shard
                let leader = await leader(of: .shard(streamID: stream.id, shard: shard.id), replicas: shard.replicas)
                if leader != me { throw Redirect(hint: leader) }
            }
        }
        var outcome = AppendOutcome()
        var refused: [RoutedRecord] = []
        enum ShardResult: Sendable {
            case written([(slot: Int, shard: ShardID, sequence: SequenceNumber)])
            case sealed([RoutedRecord])
            case failed([Int], KinesisError)
        }
        await withTaskGroup(of: ShardResult.self) { group in
            for (_, records) in groups {
                let shard = records[0].shard
                group.addTask {
                    let batch = RecordBatch(records: records.map(\.record))
                    do {
                        let (index, stamp) = try await self.appendDurably(batch, stream: stream, shard: shard)
                        // Counted per shard entry, once durable: the same moment the client learns of it.
                        let bytes = records.reduce(0) { $0 + $1.record.data.count + $1.record.partitionKey.utf8.count }
                        self.metrics.recordsPut(stream: stream.name, shard: shard.id, records: records.count, bytes: bytes)
                        return .written(records.enumerated().map { slot, record in
                            (record.requestSlot, shard.id, shard.sequenceNumber(index: index, slot: UInt16(slot), stampMillis: stamp))
                        })
                    } catch is ShardReplica.Sealed {
                        return .sealed(records)
                    } catch {
                        let failure = error as? KinesisError ?? .internalFailure()
                        return .failed(records.map(\.requestSlot), failure)
                    }
                }
            }
            for await result in group {
                switch result {
                case .written(let appended): outcome.written += appended
                case .sealed(let records): refused += records
                case .failed(let slots, let error): for slot in slots { outcome.failed[slot] = error }
                }
            }
        }
        guard !refused.isEmpty else { return outcome }
        guard !rerouted else {
            for record in refused { outcome.failed[record.requestSlot] = .internalFailure("shards kept closing while records were routed") }
            return outcome
        }
        let (fresh, _) = try resolve(selector, namespace)
        var again: [RoutedRecord] = []
        let map = shardMap(fresh)
        for record in refused {
            var copy = record
            copy.shard = try route(partitionKey: record.record.partitionKey, explicitHashKey: record.explicitHashKey, in: map, of: fresh)
            again.append(copy)
        }
        let retried = try await appendRouted(again, stream: fresh, selector: selector, namespace: namespace, rerouted: true)
        outcome.written += retried.written
        outcome.failed.merge(retried.failed) { first, _ in first }
        return outcome
    }

    func checkRecordSize(data: [UInt8], key: String, stream: StreamMetadata) throws(KinesisError) {
        let limit = stream.maxRecordSizeKiB * 1024
        if data.count > limit {
            throw KinesisError(
                .validation,
                "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=\(data.count) cap=\(data.count)]' "
                    + "at 'data' failed to satisfy constraint: Member must have length less than or equal to \(limit)")
        }
        // The documented limit counts the partition key too; say so rather than misquote the data length.
        if data.count + key.utf8.count > limit {
            throw KinesisError(
                .invalidArgument,
                "Record size (data \(data.count) bytes plus partition key \(key.utf8.count) bytes) exceeds the maximum record "
                    + "size of stream \(stream.name), \(stream.maxRecordSizeKiB) KiB.")
        }
    }

    /// The stream's shard map, parsed once per shard layout: routing every PutRecord by a fresh map parsed
    /// each shard's decimal hash range per call.
    func shardMap(_ stream: StreamMetadata) -> ShardMap {
        if let cached = shardMaps.withLockedValue({ $0[stream.id] }), cached.shardCount == stream.shards.count {
            return cached.map
        }
        let map = ShardMap(stream)
        shardMaps.withLockedValue { maps in
            // Bounded by the streams in use: a deleted stream's map goes with the next miss of another.
            if maps.count > 1024 { maps.removeAll() }
            maps[stream.id] = (stream.shards.count, map)
        }
        return map
    }

    /// The open shard of `stream` that holds the record's hash key, as this version of the stream has it.
    func route(
        partitionKey: String, explicitHashKey: String?, in map: ShardMap, of stream: StreamMetadata
    ) throws(KinesisError) -> ShardMetadata {
        let key: HashKey
        if let explicitHashKey {
            switch HashKey.parse(explicitHashKey) {
            case .valid(let parsed): key = parsed
            case .outOfRange, .malformed:
                throw KinesisError(
                    .invalidArgument,
                    "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was \(explicitHashKey)")
            }
        } else {
            key = HashKey(partitionKey: partitionKey)
        }
        guard let position = map.position(for: key), stream.shards.indices.contains(position) else {
            throw KinesisError.internalFailure("No open shard covers hash key \(key)")
        }
        return stream.shards[position]
    }
}

extension ShardMetadata {
    /// The sequence number of the record in `slot` of the entry at `index`, stamped `stampMillis` by the leader.
    func sequenceNumber(index: LogIndex, slot: UInt16, stampMillis: Int64) -> SequenceNumber {
        SequenceNumber(entry: index, slot: slot, stampMillis: stampMillis, epoch: epoch, shardIndex: self.index)
    }
}

extension SequenceNumber {
    /// The number of the record in `slot` of the entry at `entry`, stamped `stampMillis` by the leader.
    init(entry: LogIndex, slot: UInt16, stampMillis: Int64, epoch: UInt64, shardIndex: UInt32) {
        self.init(
            epoch: epoch, index: entry, slot: slot, arrivalSeconds: UInt64(max(0, stampMillis / 1000)),
            shardIndex: shardIndex)
    }
}
