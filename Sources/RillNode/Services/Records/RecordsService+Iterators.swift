import RillAPI
import RillKinesis
import RillModel

extension RecordsService {

    func getShardIterator(_ r: inout RequestReader, _ namespace: Namespace) async throws -> APIResponse {
        let input = try GetShardIteratorInput(reading: &r)
        let (shardText, type, startingText, timestamp, selector) =
            (input.shardID, input.type, input.startingSequenceNumber, input.timestamp, input.selector)
        let (stream, namespace) = try resolve(selector, namespace)
        guard let shardID = ShardID(parsing: shardText), let shard = stream.shard(shardID) else {
            throw KinesisError.shardNotFound(shardText, stream: stream.name, account: namespace.account)
        }
        let position = try await startPosition(
            type: type,
            startingText: startingText,
            timestamp: timestamp,
            stream: stream,
            shard: shard,
            namespace: namespace
        )
        let iterator = ShardIterator(
            region: namespace.region,
            streamName: stream.name,
            streamID: stream.id,
            streamCreatedMillis: stream.createdMillis,
            shardIndex: shard.index,
            position: position,
            issuedMillis: clock.nowMillis()
        )
        var w = JSONWriter()
        w.beginObject()
        w.key("ShardIterator")
        w.string(iterator.token(key: metadata.catalog.iteratorKey))
        w.endObject()
        return APIResponse(w)
    }

    /// Where a reader of `shard` starts for an iterator type: the rules GetShardIterator and
    /// SubscribeToShard share (KINESIS-SEMANTICS §3.1).
    func startPosition(
        type: ShardIteratorType,
        startingText: String?,
        timestamp: Int64?,
        stream: StreamMetadata,
        shard: ShardMetadata,
        namespace: Namespace,
        replica resolve: ((StreamMetadata, ShardMetadata) async throws -> any ReadableShard)? = nil
    ) async throws -> LogPosition {
        switch type {
        case .atSequenceNumber, .afterSequenceNumber:
            if startingText == nil {
                throw KinesisError(
                    .invalidArgument,
                    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
                        + "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified \(type.rawValue) and "
                        + "no StartingSequenceNumber."
                )
            }
        case .trimHorizon, .latest:
            if startingText != nil {
                throw KinesisError(
                    .invalidArgument,
                    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
                        + "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified \(type.rawValue) and "
                        + "also a StartingSequenceNumber."
                )
            }
        case .atTimestamp:
            if timestamp == nil {
                throw KinesisError(
                    .invalidArgument,
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no "
                        + "timestamp parameter."
                )
            }
        }
        let replica = try await (resolve ?? readers.servingShard)(stream, shard)
        let position: LogPosition
        switch type {
        case .trimHorizon:
            position = LogPosition(index: replica.firstIndex, slot: 0)
        case .latest:
            position = LogPosition(index: replica.committedIndex.next, slot: 0)
        case .atTimestamp:
            let millis = timestamp ?? 0
            let found = try await replica.firstIndex(atOrAfterTimestamp: millis)
            position = LogPosition(
                index: min(found ?? replica.committedIndex.next, replica.committedIndex.next),
                slot: 0
            )
        case .atSequenceNumber, .afterSequenceNumber:
            let text = startingText ?? ""
            let sequence = try parseStartingSequence(text, shard: shard, stream: stream, namespace: namespace)
            var start = sequence.position
            if type == .afterSequenceNumber {
                start =
                    start.slot == .max
                    ? LogPosition(index: start.index.next, slot: 0)
                    : LogPosition(index: start.index, slot: start.slot + 1)
            }
            position = start
        }
        return position
    }

    func parseStartingSequence(
        _ text: String,
        shard: ShardMetadata,
        stream: StreamMetadata,
        namespace: Namespace
    ) throws(KinesisError) -> SequenceNumber {
        guard let sequence = SequenceNumber(parsing: text) else {
            throw KinesisError(
                .invalidArgument,
                "StartingSequenceNumber \(text) used in GetShardIterator on shard \(shard.id.name) in stream "
                    + "\(stream.name) under account \(namespace.account) is invalid."
            )
        }
        if sequence.shardIndex != shard.index {
            throw KinesisError(
                .invalidArgument,
                "Invalid StartingSequenceNumber. It encodes \(ShardID(index: sequence.shardIndex).name), while it was "
                    + "used in a call to a shard with \(shard.id.name)"
            )
        }
        if sequence.epoch != shard.epoch {
            throw KinesisError(
                .invalidArgument,
                "StartingSequenceNumber \(text) used in GetShardIterator on shard \(shard.id.name) in stream "
                    + "\(stream.name) under account \(namespace.account) is invalid because it did not come from this stream."
            )
        }
        return sequence
    }
}
