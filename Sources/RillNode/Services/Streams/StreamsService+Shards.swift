import RillAPI
import RillKinesis
import RillModel

/// ShardFilter types of ListShards.
enum ShardFilterType: String, CaseIterable {
    case afterShardId = "AFTER_SHARD_ID"
    case atTrimHorizon = "AT_TRIM_HORIZON"
    case fromTrimHorizon = "FROM_TRIM_HORIZON"
    case atLatest = "AT_LATEST"
    case atTimestamp = "AT_TIMESTAMP"
    case fromTimestamp = "FROM_TIMESTAMP"
}

extension StreamsService {
    func listShards(_ r: inout RequestReader, _ namespace: Namespace) throws -> APIResponse {
        let streamName = try r.string("StreamName", min: 1, max: 128, pattern: .streamName)
        let token = try r.string("NextToken", min: 1, max: 1_048_576)
        var exclusiveStart = try r.string("ExclusiveStartShardId", min: 1, max: 128, pattern: .shardId)
        let maxResults = try r.integer("MaxResults", min: 1, max: 10_000)
        let creation = try r.timestamp("StreamCreationTimestamp")
        let filterObject = try r.object("ShardFilter")
        var filterType: ShardFilterType?
        var filterShard: String?
        var filterTimestamp: Int64?
        if let filterObject {
            filterType = try r.enumeration(
                "Type",
                in: filterObject,
                path: "shardFilter.type",
                required: true,
                as: ShardFilterType.self
            )
            filterShard = try r.string(
                "ShardId",
                in: filterObject,
                path: "shardFilter.shardId",
                min: 1,
                max: 128,
                pattern: .shardId
            )
            filterTimestamp = try r.timestamp("Timestamp", in: filterObject)
        }
        let streamARN = try r.string("StreamARN", min: 1, max: 2048, pattern: .streamARN)
        try r.finish()

        var selector: StreamSelector
        if let token {
            for (present, name) in [
                (streamName != nil, "StreamName"), (streamARN != nil, "StreamARN"),
                (exclusiveStart != nil, "ExclusiveStartShardId"), (filterObject != nil, "ShardFilter"),
                (creation != nil, "StreamCreationTimestamp"),
            ] where present {
                throw KinesisError(.invalidArgument, "NextToken and \(name) cannot be provided together.")
            }
            guard let decoded = PageToken.decode(token, now: clock.nowMillis()) else {
                throw KinesisError(.invalidArgument, "Invalid NextToken.")
            }
            guard case .live(let fields) = decoded, fields.count == 3 else {
                throw KinesisError(.expiredNextToken, "The timestamp sent is older than the expiration time.")
            }
            selector = StreamSelector(
                name: fields[0],
                arn: StreamARN(region: fields[1], account: metadata.accountID, streamName: fields[0])
            )
            exclusiveStart = fields[2]
        } else if let arnText = streamARN, let arn = StreamARN(parsing: arnText) {
            if let streamName, streamName != arn.streamName {
                throw KinesisError(.invalidArgument, "StreamName \(streamName) and StreamARN \(arnText) do not match.")
            }
            selector = StreamSelector(name: arn.streamName, arn: arn)
        } else if let streamName {
            selector = StreamSelector(name: streamName, arn: nil)
        } else {
            throw KinesisError(.invalidArgument, "Either NextToken or StreamName should be provided.")
        }
        let (stream, namespace) = try resolve(selector, namespace)

        let now = clock.nowMillis()
        let trimHorizon = max(now - Int64(stream.retentionHours) * 3_600_000, stream.createdMillis)
        var shards = visibleShards(stream)
        switch filterType {
        case nil, .fromTrimHorizon: break
        case .afterShardId:
            guard let filterShard else {
                throw KinesisError(
                    .invalidArgument,
                    "ShardId must be specified when using the AFTER_SHARD_ID filter type."
                )
            }
            let after = ShardID(parsing: filterShard)?.index ?? 0
            shards = shards.filter { $0.index > after }
        case .atTrimHorizon:
            shards = shards.filter {
                $0.createdMillis <= trimHorizon && ($0.closedMillis.map { $0 > trimHorizon } ?? true)
            }
        case .atLatest:
            shards = shards.filter(\.isOpen)
        case .atTimestamp:
            guard let t = filterTimestamp else {
                throw KinesisError(
                    .invalidArgument,
                    "Timestamp must be specified when using the AT_TIMESTAMP filter type."
                )
            }
            shards = shards.filter { $0.createdMillis <= t && ($0.closedMillis.map { $0 >= t } ?? true) }
        case .fromTimestamp:
            guard let t = filterTimestamp else {
                throw KinesisError(
                    .invalidArgument,
                    "Timestamp must be specified when using the FROM_TIMESTAMP filter type."
                )
            }
            let from = max(t, trimHorizon)
            shards = shards.filter { $0.closedMillis.map { $0 >= from } ?? true }
        }
        if let exclusiveStart {
            let after = ShardID(parsing: exclusiveStart)?.index
            shards = shards.filter { after == nil || $0.index > after! }
        }
        let page = shards.prefix(min(Int(maxResults ?? 1000), 1000))
        var w = JSONWriter(capacity: 512 * page.count + 64)
        w.beginObject()
        w.key("Shards")
        w.beginArray()
        for shard in page { writeShard(shard, &w) }
        w.endArray()
        if shards.count > page.count, let last = page.last {
            w.key("NextToken")
            w.string(PageToken.encode([stream.name, namespace.region, last.id.name], now: now))
        }
        w.endObject()
        return APIResponse(w)
    }
}
