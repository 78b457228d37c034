import RillAPI
import RillKinesis
import RillModel

/// Iterator types of GetShardIterator.
enum ShardIteratorType: String, CaseIterable {
    case atSequenceNumber = "AT_SEQUENCE_NUMBER"
    case afterSequenceNumber = "AFTER_SEQUENCE_NUMBER"
    case trimHorizon = "TRIM_HORIZON"
    case latest = "LATEST"
    case atTimestamp = "AT_TIMESTAMP"
}

extension Node {
    static let maxGetRecordsBytes = 10 << 20

    func getShardIterator(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let shardText = try r.string("ShardId", required: true, min: 1, max: 128, pattern: .shardId)
        let type = try r.enumeration("ShardIteratorType", required: true, as: ShardIteratorType.self)
        let startingText = try r.string("StartingSequenceNumber", pattern: .sequenceNumber)
        let timestamp = try r.timestamp("Timestamp")
        let selector = try r.requireStream()
        guard let shardText, let type else { throw KinesisError(.validation, "ShardId is required") }
        let (stream, namespace) = try resolve(selector, namespace)
        guard let shardID = ShardID(parsing: shardText), let shard = stream.shard(shardID) else {
            throw KinesisError.shardNotFound(shardText, stream: stream.name, account: namespace.account)
        }
        let position = try await startPosition(
            type: type, startingText: startingText, timestamp: timestamp, stream: stream, shard: shard, namespace: namespace)
        let iterator = ShardIterator(
            region: namespace.region, streamName: stream.name, streamID: stream.id, streamCreatedMillis: stream.createdMillis,
            shardIndex: shard.index, position: position, issuedMillis: clock.nowMillis())
        var w = JSONWriter()
        w.beginObject()
        w.key("ShardIterator"); w.string(iterator.token(key: metadata.catalog.iteratorKey))
        w.endObject()
        return APIResponse(w)
    }

    /// Where a reader of `shard` starts for an iterator type: the rules GetShardIterator and
    /// SubscribeToShard share (KINESIS-SEMANTICS §3.1).
    func startPosition(
        type: ShardIteratorType, startingText: String?, timestamp: Int64?, stream: StreamMetadata, shard: ShardMetadata,
        namespace: Namespace, replica resolve: ((StreamMetadata, ShardMetadata) async throws -> ShardReplica)? = nil
    ) async throws -> LogPosition {
        switch type {
        case .atSequenceNumber, .afterSequenceNumber:
            if startingText == nil {
                throw KinesisError(
                    .invalidArgument,
                    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
                        + "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified \(type.rawValue) and "
                        + "no StartingSequenceNumber.")
            }
        case .trimHorizon, .latest:
            if startingText != nil {
                throw KinesisError(
                    .invalidArgument,
                    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
                        + "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified \(type.rawValue) and "
                        + "also a StartingSequenceNumber.")
            }
        case .atTimestamp:
            if timestamp == nil {
                throw KinesisError(
                    .invalidArgument,
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no "
                        + "timestamp parameter.")
            }
        }
        let replica = try await (resolve ?? servingReplica)(stream, shard)
        let log = replica.log
        let position: LogPosition
        switch type {
        case .trimHorizon:
            position = LogPosition(index: log.firstIndex, slot: 0)
        case .latest:
            position = LogPosition(index: replica.committedIndex.next, slot: 0)
        case .atTimestamp:
            let millis = timestamp ?? 0
            let found = try await threadPool.runIfActive { try log.firstIndex(atOrAfterTimestamp: millis) }
            position = LogPosition(index: min(found ?? replica.committedIndex.next, replica.committedIndex.next), slot: 0)
        case .atSequenceNumber, .afterSequenceNumber:
            let text = startingText ?? ""
            let sequence = try parseStartingSequence(text, shard: shard, stream: stream, namespace: namespace)
            var start = sequence.position
            if type == .afterSequenceNumber {
                start = start.slot == .max ? LogPosition(index: start.index.next, slot: 0) : LogPosition(index: start.index, slot: start.slot + 1)
            }
            position = start
        }
        return position
    }

    func parseStartingSequence(
        _ text: String, shard: ShardMetadata, stream: StreamMetadata, namespace: Namespace
    ) throws(KinesisError) -> SequenceNumber {
        guard let sequence = SequenceNumber(parsing: text) else {
            throw KinesisError(
                .invalidArgument,
                "StartingSequenceNumber \(text) used in GetShardIterator on shard \(shard.id.name) in stream "
                    + "\(stream.name) under account \(namespace.account) is invalid.")
        }
        if sequence.shardIndex != shard.index {
            throw KinesisError(
                .invalidArgument,
                "Invalid StartingSequenceNumber. It encodes \(ShardID(index: sequence.shardIndex).name), while it was "
                    + "used in a call to a shard with \(shard.id.name)")
        }
        if sequence.epoch != shard.epoch {
            throw KinesisError(
                .invalidArgument,
                "StartingSequenceNumber \(text) used in GetShardIterator on shard \(shard.id.name) in stream "
                    + "\(stream.name) under account \(namespace.account) is invalid because it did not come from this stream.")
        }
        return sequence
    }

    func getRecords(
        _ r: inout RequestReader, _ namespace: Namespace, replyProtocol: WireProtocol = .json
    ) async throws -> APIResponse {
        let started = ContinuousClock.now
        let token = try r.string("ShardIterator", required: true, min: 1, max: 512)
        let limit = Int(try r.integer("Limit", min: 1, max: 10_000) ?? 10_000)
        _ = try r.string("StreamARN", min: 1, max: 2048, pattern: .streamARN)
        try r.finish()
        let catalog = metadata.catalog
        // An iterator belongs to the namespace it was issued in; another region's client cannot use it.
        guard let token, let iterator = ShardIterator(token: token, key: catalog.iteratorKey), iterator.region == namespace.region
        else {
            throw KinesisError(.invalidArgument, "Invalid ShardIterator.")
        }
        let now = clock.nowMillis()
        if now - iterator.issuedMillis > ShardIterator.lifetimeMillis {
            throw KinesisError(
                .expiredIterator,
                "Iterator expired. The iterator was created at time \(JavaDate.format(iterator.issuedMillis)) while right "
                    + "now it is \(JavaDate.format(now)) which is further in the future than the tolerated delay of "
                    + "\(ShardIterator.lifetimeMillis) milliseconds.")
        }
        let iteratorNamespace = Namespace(account: namespace.account, region: iterator.region)
        guard let stream = catalog.stream(iterator.streamName, in: iteratorNamespace), stream.id == iterator.streamID else {
            throw KinesisError.streamNotFound(iterator.streamName, account: namespace.account)
        }
        guard let shard = stream.shard(ShardID(index: iterator.shardIndex)) else {
            throw KinesisError.shardNotFound(ShardID(index: iterator.shardIndex).name, stream: stream.name, account: namespace.account)
        }
        let replica = try await servingReplica(stream: stream, shard: shard)
        try throughput.admitRead(stream, shard.id)
        let horizon = now - Int64(stream.retentionHours) * 3_600_000
        let page = try await threadPool.runIfActive {
            try ShardReader(replica: replica).read(from: iterator.position, limit: limit, maxBytes: Self.maxGetRecordsBytes, horizonMillis: horizon)
        }
        throughput.chargeRead(stream, shard.id, bytes: page.byteCount)
        // The age of the last record returned, as CloudWatch defines it; a reader at the tip is 0 behind.
        let age = page.records.last.map { max(0, now - $0.stampMillis) } ?? 0
        metrics.recordsRead(
            stream: stream.name, shard: shard.id, records: page.records.count, bytes: page.byteCount, iteratorAgeMillis: age)
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
        metrics.getRecordsSucceeded(stream: stream.name, after: started.duration(to: .now))
        return response
    }

    private func writeGetRecordsReply(
        _ page: ShardReader.Page, _ iterator: ShardIterator, _ stream: StreamMetadata, _ shard: ShardMetadata,
        _ replica: ShardReplica, _ catalog: Catalog, now: Int64, _ w: inout some ResponseWriter
    ) {
        w.beginObject()
        w.key("Records"); page.writeRecords(sequencedBy: replica, &w)
        // A closed shard read past its seal has no next iterator; its children take over (KCL's SHARD_END).
        if let seal = shard.sealIndex, page.next.index.rawValue >= seal {
            w.key("MillisBehindLatest"); w.int(0)
            w.key("ChildShards"); writeChildShards(of: shard, in: stream, &w)
        } else {
            var next = iterator
            next.position = page.next
            next.issuedMillis = now
            w.key("NextShardIterator"); w.string(next.token(key: catalog.iteratorKey))
            w.key("MillisBehindLatest"); w.int(page.millisBehindLatest)
        }
        w.endObject()
    }
}

extension ShardReader.Page {
    /// The `Records` array GetRecords and SubscribeToShard events share.
    func writeRecords(sequencedBy replica: ShardReplica, _ w: inout some ResponseWriter) {
        w.beginArray()
        for record in records {
            w.beginObject()
            w.key("SequenceNumber")
            w.string(replica.sequenceNumber(index: record.position.index, slot: record.position.slot, stampMillis: record.stampMillis).description)
            w.key("ApproximateArrivalTimestamp"); w.timestamp(millis: record.stampMillis)
            w.key("Data"); w.blob(record.data)
            w.key("PartitionKey"); w.string(record.partitionKey)
            w.endObject()
        }
        w.endArray()
    }
}

extension Node {
    /// The shards that continue `shard` after a split or merge.
    func writeChildShards(of shard: ShardMetadata, in stream: StreamMetadata, _ w: inout some ResponseWriter) {
        w.beginArray()
        for child in stream.shards where child.parent == shard.index || child.adjacentParent == shard.index {
            w.beginObject()
            w.key("ShardId"); w.string(child.id.name)
            w.key("ParentShards")
            w.beginArray()
            for parent in [child.parent, child.adjacentParent].compactMap({ $0 }) { w.string(ShardID(index: parent).name) }
            w.endArray()
            w.key("HashKeyRange")
            w.beginObject()
            w.key("StartingHashKey"); w.string(child.startingHashKey)
            w.key("EndingHashKey"); w.string(child.endingHashKey)
            w.endObject()
            w.endObject()
        }
        w.endArray()
    }
}

/// Renders a time the way Java's `Date.toString()` does, as AWS quotes it in ExpiredIterator messages.
enum JavaDate {
    static func format(_ millis: Int64) -> String {
        let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let seconds = millis / 1000
        let dayNumber = Int(seconds / 86_400)
        let secondOfDay = Int(seconds % 86_400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let weekday = days[((dayNumber % 7) + 7) % 7]
        return "\(weekday) \(months[month - 1]) \(two(day)) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):"
            + "\(two(secondOfDay % 60)) UTC \(year)"
    }
}
