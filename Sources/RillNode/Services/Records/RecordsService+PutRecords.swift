import RillAPI
import RillCluster
import RillKinesis
import RillModel
import RillRouting

extension RecordsService {
    /// One record of a PutRecords, with the hash key it is routed by.
    struct RoutedRecord: Sendable {
        var requestSlot: Int
        var hashKey: HashKey
        var record: RecordBatch.Record
    }

    /// The records of a PutRecords that go to one shard, in request order: appended as one entry.
    struct RoutedPart: Sendable {
        var shard: ShardMetadata
        var records: [RoutedRecord]
    }

    func putRecords(
        _ r: inout RequestReader,
        _ namespace: Namespace,
        reach: Reach,
        producer: ProducerStamp? = nil,
        replyProtocol: WireProtocol = .json
    ) async throws -> APIResponse {
        let started = ContinuousClock.now
        let items = try r.array("Records", required: true, min: 1, max: RecordRouting.maxRecords) ?? []
        var entries: [(data: [UInt8], key: String, explicit: String?)] = []
        entries.reserveCapacity(items.count)
        for (offset, item) in items.enumerated() {
            let base = "records.\(offset + 1).member"
            guard case .object(let object) = item else { throw RequestReader.typeError(item, "a Structure") }
            let data = try r.blob("Data", in: object, path: base + ".data", required: true, max: 10_485_760)
            let explicit = try r.string(
                "ExplicitHashKey",
                in: object,
                path: base + ".explicitHashKey",
                pattern: .hashKey
            )
            let key = try r.string(
                "PartitionKey",
                in: object,
                path: base + ".partitionKey",
                required: true,
                min: 1,
                max: 256
            )
            entries.append((data ?? [], key ?? "", explicit))
        }
        let selector = try r.requireStream()
        let (stream, namespace) = try resolve(selector, namespace)
        // The request as a whole is checked before anything is written: only these errors fail the whole call.
        // Records over the stream's size limit fail it as the model's length check does: every one listed,
        // each by its path (`records.N.member.data`, 1-based), as AWS names them.
        let limit = stream.maxRecordSizeKiB * 1024
        for (slot, entry) in entries.enumerated() where entry.data.count > limit {
            r.violate(Self.blobValue(entry.data.count), "records.\(slot + 1).member.data", Self.lengthRule(limit))
        }
        try r.finish()
        try producer?.check(recordCount: entries.count)
        var total = 0
        var routed: [RoutedRecord] = []
        routed.reserveCapacity(entries.count)
        for (slot, entry) in entries.enumerated() {
            try checkRecordSize(data: entry.data, key: entry.key, stream: stream)
            total += entry.data.count + entry.key.utf8.count
            let hashKey = try RecordRouting.hashKey(partitionKey: entry.key, explicitHashKey: entry.explicit)
            routed.append(
                RoutedRecord(
                    requestSlot: slot,
                    hashKey: hashKey,
                    record: .init(partitionKey: entry.key, data: entry.data)
                )
            )
        }
        if total > RecordRouting.maxRequestBytes {
            throw KinesisError(.invalidArgument, "Records size exceeds 10 MB limit")
        }
        // Written in the client's encoding: a CBOR answer is then passed on as it is by a router (and the edge).
        var merge = PutRecordsMerge(count: routed.count, encoding: replyProtocol)
        // Records over their shard's throughput limit fail alone, as values; the rest are written. A shard this
        // node leads admits them here; a shard led elsewhere admits its part whole when it arrives (`.append`).
        var admitted: [RoutedPart] = []
        var throttled = 0
        for part in try split(routed, in: stream) {
            let shard = part.shard
            guard throughput.enabled, let lead = try await appender.lead(of: shard, in: stream) else {
                admitted.append(part)
                continue
            }
            let verdicts = throughput.admitWrites(
                stream,
                shard.id,
                lead: lead,
                sizes: part.records.map { $0.record.data.count + $0.record.partitionKey.utf8.count }
            )
            var records: [RoutedRecord] = []
            for (record, admit) in zip(part.records, verdicts) {
                if admit {
                    records.append(record)
                } else {
                    merge.set(record.requestSlot, .failed(ThroughputLimiter.rateExceeded(shard.id, stream)))
                    throttled += 1
                }
            }
            if !records.isEmpty { admitted.append(RoutedPart(shard: shard, records: records)) }
        }
        // One entry per shard, appended in parallel; records keep request order within their shard.
        let outcome = try await appendRouted(
            admitted,
            stream: stream,
            selector: selector,
            namespace: namespace,
            reach: reach,
            producer: producer
        )
        for (slot, shard, sequence) in outcome.written { merge.set(slot, .written(shard: shard, sequence: sequence)) }
        for (slot, error) in outcome.failed { merge.set(slot, .failed(error)) }
        if stream.sealingVersion != nil { merge.encryptionType = "KMS" }
        let answer = try merge.answer()
        metrics.putRecordsAnswered(
            stream,
            total: routed.count,
            successful: outcome.written.count,
            throttled: throttled,
            bytes: outcome.written.reduce(0) { $0 + entries[$1.slot].data.count + entries[$1.slot].key.utf8.count },
            after: started.duration(to: .now),
            atMillis: clock.nowMillis()
        )
        return APIResponse(body: answer, encoding: replyProtocol)
    }

    /// Splits routed records by the open shards of `stream` (`PutRecordsSplit`, as a router does).
    func split(_ records: [RoutedRecord], in stream: StreamMetadata) throws(KinesisError) -> [RoutedPart] {
        let split = try PutRecordsSplit(hashKeys: records.map(\.hashKey), map: shardMaps.map(for: stream))
        return try split.parts.map { part throws(KinesisError) in
            guard stream.shards.indices.contains(part.position) else {
                throw KinesisError.internalFailure("the shard map of \(stream.name) does not match the stream")
            }
            return RoutedPart(shard: stream.shards[part.position], records: part.slots.map { records[$0] })
        }
    }

    /// What became of one shard's part of a PutRecords.
    enum ShardResult: Sendable {
        case written([(slot: Int, shard: ShardID, sequence: SequenceNumber)])
        case sealed([RoutedRecord])
        /// Nothing written: the shard's leader is not here after all (its group lost leadership or stopped
        /// between the check and the append).
        case redirected([RoutedRecord])
        case failed([Int], KinesisError)
        /// An idempotent producer's part: each record written (or found written before) or failed alone.
        case mixed([(slot: Int, shard: ShardID, sequence: SequenceNumber)], [Int: KinesisError])
    }

    /// One shard's part of an idempotent producer's PutRecords, through the shard's producer window.
    func appendOnce(
        _ batch: RecordBatch,
        records: [RoutedRecord],
        stream: StreamMetadata,
        shard: ShardMetadata,
        reach: Reach
    ) async -> ShardResult {
        do {
            let outcomes = try await appender.appendOnce(batch, stream: stream, shard: shard, reach: reach)
            var written: [(slot: Int, shard: ShardID, sequence: SequenceNumber)] = []
            var failed: [Int: KinesisError] = [:]
            var bytes = 0
            var hashKeys: [HashKey] = []
            for (record, outcome) in zip(records, outcomes) {
                switch outcome {
                case .success(let position):
                    hashKeys.append(record.hashKey)
                    // A retry answered from a parent's window (after a reshard) names the parent's copy.
                    let (storedIn, sequence) = position.stored(
                        answeredBy: ShardOrigin(index: shard.index, epoch: shard.epoch)
                    )
                    written.append((record.requestSlot, storedIn, sequence))
                    bytes += record.record.data.count + record.record.partitionKey.utf8.count
                case .failure(let error):
                    // Only the request as a whole fails with such a code (`PutRecordsMerge`): a record's refusal
                    // (a retry older than the window) is that record's InternalFailure, its message kept.
                    failed[record.requestSlot] =
                        error.failsWholeRequest ? .internalFailure(error.message ?? "the record was refused") : error
                }
            }
            metrics.recordsPut(
                stream,
                shard: shard.id,
                records: written.count,
                bytes: bytes,
                atMillis: clock.nowMillis()
            )
            onDemandWrites.record(stream, shard: shard.id, bytes: bytes, hashKeys: hashKeys)
            return .mixed(written, failed)
        } catch is ShardSealed {
            return .sealed(records)
        } catch is Redirect {
            return .redirected(records)
        } catch {
            return .failed(records.map(\.requestSlot), error as? KinesisError ?? .internalFailure())
        }
    }

    /// What became of the routed records of one PutRecords.
    struct AppendOutcome {
        var written: [(slot: Int, shard: ShardID, sequence: SequenceNumber)] = []
        /// Records of a shard whose append failed (InternalFailure when the outcome is unknown): a failure per
        /// record, as Kinesis reports it, while the other shards' records succeed.
        var failed: [Int: KinesisError] = [:]
    }

    /// How many passes records get before they fail when their shard refuses them (sealed, or redirected:
    /// nothing written): the first and two routed again. One more was not enough on a loaded machine: a child
    /// led here could still redirect them (its leadership moving) or a second reshard seal it, and the records
    /// failed though nothing of them was written.
    static let rerouteRounds = 3

    /// Appends each part as one entry on its shard, all shards in parallel. Records refused by a shard that a
    /// reshard sealed meanwhile, or redirected (nothing written), are routed again by the new map, within
    /// `rerouteRounds` passes; past the first, on the shards' leaders wherever they are.
    func appendRouted(
        _ parts: [RoutedPart],
        stream: StreamMetadata,
        selector: StreamSelector,
        namespace: Namespace,
        reach: Reach,
        producer: ProducerStamp? = nil,
        round: Int = 0
    ) async throws -> AppendOutcome {
        if reach == .here, round == 0 {
            // A router sent this call here because it thought this node leads these shards. If it does not, say
            // so before writing anything, so the router can send the whole call on instead of failing records.
            // Never on the second pass: records of the first may be written, and a call sent on whole would
            // write them twice; a record this node cannot take then fails alone.
            try await appender.requireLeadership(of: parts.map(\.shard), in: stream)
        }
        var outcome = AppendOutcome()
        var refused: [RoutedRecord] = []
        var redirected: [RoutedRecord] = []

        await withTaskGroup(of: ShardResult.self) { group in
            for part in parts {
                let (shard, records) = (part.shard, part.records)
                group.addTask {
                    let stamp = producer?.subset(records.map(\.requestSlot))
                    let batch = RecordBatch(records: records.map(\.record), producer: stamp)
                    if stamp != nil {
                        return await self.appendOnce(
                            batch,
                            records: records,
                            stream: stream,
                            shard: shard,
                            reach: reach
                        )
                    }
                    do {
                        let (index, stamp) = try await self.appender.append(
                            batch,
                            stream: stream,
                            shard: shard,
                            reach: reach
                        )
                        // Counted per shard entry, once durable: the same moment the client learns of it.
                        let bytes = records.reduce(0) { $0 + $1.record.data.count + $1.record.partitionKey.utf8.count }
                        self.metrics.recordsPut(
                            stream,
                            shard: shard.id,
                            records: records.count,
                            bytes: bytes,
                            atMillis: self.clock.nowMillis()
                        )
                        self.onDemandWrites.record(
                            stream,
                            shard: shard.id,
                            bytes: bytes,
                            hashKeys: records.lazy.map(\.hashKey)
                        )
                        return .written(
                            records.enumerated().map { slot, record in
                                (
                                    record.requestSlot, shard.id,
                                    shard.sequenceNumber(index: index, slot: UInt16(slot), stampMillis: stamp)
                                )
                            }
                        )
                    } catch is ShardSealed {
                        return .sealed(records)
                    } catch is Redirect {
                        return .redirected(records)
                    } catch {
                        // Not written, or not known to be: each record fails alone (`PutRecordsMerge`).
                        return .failed(records.map(\.requestSlot), error as? KinesisError ?? .internalFailure())
                    }
                }
            }
            for await result in group {
                switch result {
                case .written(let appended): outcome.written += appended
                case .sealed(let records): refused += records
                case .redirected(let records): redirected += records
                case .failed(let slots, let error): for slot in slots { outcome.failed[slot] = error }
                case .mixed(let written, let failed):
                    outcome.written += written
                    outcome.failed.merge(failed) { first, _ in first }
                }
            }
        }
        guard !refused.isEmpty || !redirected.isEmpty else { return outcome }
        guard round + 1 < Self.rerouteRounds else {
            for record in refused + redirected {
                outcome.failed[record.requestSlot] = .internalFailure("shards kept closing while records were routed")
            }
            return outcome
        }
        // Routed again by the catalog that shows the reshard (`streamAfterSeal`); records only redirected go by
        // the catalog as it is.
        let map = shardMaps.map(for: stream)
        let sealed = Set(refused.compactMap { try? map.route($0.hashKey).shard.index })
        let fresh = sealed.isEmpty ? stream : try await streamAfterSeal(selector, namespace, sealed: sealed)
        let parts = try split((refused + redirected).sorted { $0.requestSlot < $1.requestSlot }, in: fresh)
        if round == 0, reach == .here, outcome.written.isEmpty, outcome.failed.isEmpty {
            // Nothing of this forwarded call is written: it may still be sent on whole, to the children's leader.
            try await appender.requireLeadership(of: parts.map(\.shard), in: fresh)
        }
        // Past the first round the whole call can no longer be sent on (only the first checks leadership first).
        let partDecided = round > 0 || !outcome.written.isEmpty || !outcome.failed.isEmpty
        let retried = try await appendRouted(
            parts,
            stream: fresh,
            selector: selector,
            namespace: namespace,
            reach: ForwardedAppend.forwardsRerouted(
                forwarded: reach == .here,
                partDecided: partDecided,
                redirected: !redirected.isEmpty
            ) ? .leader : reach,
            producer: producer,
            round: round + 1
        )
        outcome.written += retried.written
        outcome.failed.merge(retried.failed) { first, _ in first }
        return outcome
    }
}
