import RillAPI
import RillKinesis
import RillModel

extension RecordsService {
    static let maxGetRecordsBytes = 10 << 20

    func getRecords(
        _ r: inout RequestReader,
        _ namespace: Namespace,
        replyProtocol: WireProtocol = .json
    ) async throws -> APIResponse {
        let started = ContinuousClock.now
        let input = try GetRecordsInput(reading: &r)
        let (token, limit) = (input.shardIterator, input.limit)
        let catalog = metadata.catalog
        // An iterator belongs to the namespace it was issued in; another region's client cannot use it.
        guard let iterator = ShardIterator(token: token, key: catalog.iteratorKey), iterator.region == namespace.region
        else {
            throw KinesisError(.invalidArgument, "Invalid ShardIterator.")
        }
        let now = clock.nowMillis()
        if now - iterator.issuedMillis > ShardIterator.lifetimeMillis {
            throw KinesisError(
                .expiredIterator,
                "Iterator expired. The iterator was created at time \(JavaDate.format(iterator.issuedMillis)) while right "
                    + "now it is \(JavaDate.format(now)) which is further in the future than the tolerated delay of "
                    + "\(ShardIterator.lifetimeMillis) milliseconds."
            )
        }
        let iteratorNamespace = Namespace(account: namespace.account, region: iterator.region)
        guard let stream = catalog.stream(iterator.streamName, in: iteratorNamespace), stream.id == iterator.streamID
        else {
            throw KinesisError.streamNotFound(iterator.streamName, account: namespace.account)
        }
        guard let shard = stream.shard(ShardID(index: iterator.shardIndex)) else {
            throw KinesisError.shardNotFound(
                ShardID(index: iterator.shardIndex).name,
                stream: stream.name,
                account: namespace.account
            )
        }
        let replica = try await readers.servingShard(stream, shard)
        // Asking the replica whether it leads is a hop to its group's owner: only worth it when limits are on.
        if throughput.enabled {
            try throughput.admitRead(stream, shard.id, lead: try await appender.lead(of: shard, in: stream))
        }
        let horizon = now - Int64(stream.retentionHours) * 3_600_000
        let page = try await replica.read(
            from: iterator.position,
            limit: limit,
            maxBytes: Self.maxGetRecordsBytes,
            horizonMillis: horizon
        )
        throughput.chargeRead(stream, shard.id, bytes: page.byteCount)
        // The age of the last record returned, as CloudWatch defines it; a reader at the tip is 0 behind.
        let age = page.records.last.map { max(0, now - $0.stampMillis) } ?? 0
        // The reply goes straight into the client's encoding: for CBOR that saves a base64 encoding, a JSON walk
        // and a base64 decoding of up to 10 MiB per call.
        let response: APIResponse
        switch replyProtocol {
        case .json:
            var w = JSONWriter(capacity: page.byteCount * 4 / 3 + 200 * page.records.count + 512)
            writeGetRecordsReply(page, iterator, stream, shard, replica, catalog, now: now, &w)
            response = APIResponse(w)
        case .cbor:
            var w = CBORWriter(capacity: page.byteCount + 120 * page.records.count + 512)
            writeGetRecordsReply(page, iterator, stream, shard, replica, catalog, now: now, &w)
            response = APIResponse(w)
        }
        metrics.recordsRead(
            stream,
            shard: shard.id,
            records: page.records.count,
            bytes: page.byteCount,
            iteratorAgeMillis: age,
            after: started.duration(to: .now),
            atMillis: now
        )
        return response
    }

    private func writeGetRecordsReply(
        _ page: ShardReader.Page,
        _ iterator: ShardIterator,
        _ stream: StreamMetadata,
        _ shard: ShardMetadata,
        _ replica: any ReadableShard,
        _ catalog: Catalog,
        now: Int64,
        _ w: inout some ResponseWriter
    ) {
        w.beginObject()
        w.key("Records")
        page.writeRecords(sequencedBy: replica, &w)
        // A closed shard read past its seal has no next iterator; its children take over (KCL's SHARD_END).
        if let seal = shard.sealIndex, page.next.index.rawValue >= seal {
            w.key("MillisBehindLatest")
            w.int(0)
            w.key("ChildShards")
            Self.writeChildShards(of: shard, in: stream, &w)
        } else {
            var next = iterator
            next.position = page.next
            next.issuedMillis = now
            w.key("NextShardIterator")
            w.string(next.token(key: catalog.iteratorKey))
            w.key("MillisBehindLatest")
            w.int(page.millisBehindLatest)
        }
        w.endObject()
    }
}

extension ShardReader.Page {
    /// The `Records` array GetRecords and SubscribeToShard events share.
    func writeRecords(sequencedBy replica: some RecordSequencer, _ w: inout some ResponseWriter) {
        w.beginArray()
        for record in records {
            w.beginObject()
            w.key("SequenceNumber")
            w.string(
                replica.sequenceNumber(
                    index: record.position.index,
                    slot: record.position.slot,
                    stampMillis: record.stampMillis
                ).description
            )
            w.key("ApproximateArrivalTimestamp")
            w.timestamp(millis: record.stampMillis)
            w.key("Data")
            w.blob(record.data)
            w.key("PartitionKey")
            w.string(record.partitionKey)
            w.endObject()
        }
        w.endArray()
    }
}

extension RecordsService {
    /// The shards that continue `shard` after a split or merge.
    static func writeChildShards(of shard: ShardMetadata, in stream: StreamMetadata, _ w: inout some ResponseWriter) {
        w.beginArray()
        for child in stream.shards where child.parent == shard.index || child.adjacentParent == shard.index {
            w.beginObject()
            w.key("ShardId")
            w.string(child.id.name)
            w.key("ParentShards")
            w.beginArray()
            for parent in [child.parent, child.adjacentParent].compactMap({ $0 }) {
                w.string(ShardID(index: parent).name)
            }
            w.endArray()
            w.key("HashKeyRange")
            w.beginObject()
            w.key("StartingHashKey")
            w.string(child.startingHashKey)
            w.key("EndingHashKey")
            w.string(child.endingHashKey)
            w.endObject()
            w.endObject()
        }
        w.endArray()
    }
}
