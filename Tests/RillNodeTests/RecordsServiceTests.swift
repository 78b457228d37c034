import NIOConcurrencyHelpers
import RillAPI
import RillKinesis
import RillModel
import RillRouting
import Testing

@testable import RillNode

/// The records service's writes against an in-memory catalog and an appender that stands in for the shards'
/// leaders: what it is asked to append, and how each shard answers.
@Suite struct RecordsServiceTests {
    /// Appends at increasing indexes, except to shards told to fail.
    final class FakeAppender: ShardAppender {
        let failing: [UInt32: KinesisError]
        let appended = NIOLockedValueBox<[(shard: UInt32, records: Int)]>([])
        init(failing: [UInt32: KinesisError] = [:]) { self.failing = failing }

        func append(
            _ batch: RecordBatch,
            stream: StreamMetadata,
            shard: ShardMetadata,
            reach: Reach
        ) async throws -> (LogIndex, Int64) {
            if let error = failing[shard.index] { throw error }
            let count = appended.withLockedValue { list in
                list.append((shard.index, batch.records.count))
                return list.count
            }
            return (LogIndex(UInt64(count)), 1_700_000_000_000)
        }

        func appendOnce(
            _ batch: RecordBatch,
            stream: StreamMetadata,
            shard: ShardMetadata,
            reach: Reach
        ) async throws -> [Result<RecordPosition, KinesisError>] {
            let (index, stamp) = try await append(batch, stream: stream, shard: shard, reach: reach)
            return batch.records.indices.map {
                .success(RecordPosition(index: index, slot: UInt16($0), stampMillis: stamp))
            }
        }

        func requireLeadership(of shards: [ShardMetadata], in stream: StreamMetadata) async throws {}

        func lead(of shard: ShardMetadata, in stream: StreamMetadata) async throws -> ShardLead? {
            ShardLead(term: 1, newestRecordMillis: nil)
        }
    }

    /// No copies to read from: these tests write.
    struct NoReaders: ShardReaders {
        func servingShard(_ stream: StreamMetadata, _ shard: ShardMetadata) async throws -> any ReadableShard {
            throw KinesisError.internalFailure("no reads here")
        }
    }

    func service(_ metadata: FakeMetadata, _ appender: FakeAppender) -> RecordsService {
        RecordsService(
            metadata: metadata,
            appender: appender,
            readers: NoReaders(),
            throughput: ThroughputLimiter(enabled: false, clock: ManualWallClock(), metrics: NodeMetrics()),
            shardMaps: ShardMapCache(),
            clock: ManualWallClock(),
            metrics: NodeMetrics()
        )
    }

    /// A PutRecords body with one record per explicit hash key.
    func putRecords(_ keys: [HashKey]) throws -> RequestReader {
        let records = keys.map { #"{"Data":"AA==","PartitionKey":"k","ExplicitHashKey":"\#($0.description)"}"# }
        return try RequestReader(
            bytes: Array(#"{"StreamName":"s","Records":[\#(records.joined(separator: ","))]}"#.utf8)
        )
    }

    @Test("PutRecord appends one record on the shard its key routes to and answers its sequence number")
    func putRecord() async throws {
        let metadata = try await FakeMetadata.withStream(shards: 2)
        let appender = FakeAppender()
        var reader = try RequestReader(
            bytes: Array(
                #"{"StreamName":"s","Data":"AA==","PartitionKey":"k","ExplicitHashKey":"\#(HashKey.max.description)"}"#
                    .utf8
            )
        )
        let reply = try await service(metadata, appender).putRecord(&reader, FakeMetadata.namespace, reach: .leader)
        #expect(String(decoding: reply.body, as: UTF8.self).contains(#""ShardId":"shardId-000000000001""#))
        #expect(appender.appended.withLockedValue { $0.map(\.shard) } == [1])
    }

    @Test("a shard whose append fails costs only its own records, each an InternalFailure; the rest are written")
    func partialFailure() async throws {
        let metadata = try await FakeMetadata.withStream(shards: 2)
        let appender = FakeAppender(failing: [
            1: .internalFailure("node 2 did not answer; the outcome is unknown, retry.")
        ])
        var reader = try putRecords([HashKey(0), HashKey.max, HashKey(1)])
        let reply = try await service(metadata, appender).putRecords(&reader, FakeMetadata.namespace, reach: .leader)
        let text = String(decoding: reply.body, as: UTF8.self)
        #expect(text.hasPrefix(#"{"FailedRecordCount":1,"Records":[{"SequenceNumber":"#))
        #expect(
            text.contains(
                #"{"ErrorCode":"InternalFailure","ErrorMessage":"node 2 did not answer; the outcome is unknown, retry."}"#
            )
        )
        #expect(appender.appended.withLockedValue { $0.map(\.records) } == [2])
    }

    @Test("a stream that is gone while every append fails on it fails the whole call")
    func wholeCallFailure() async throws {
        let metadata = try await FakeMetadata.withStream(shards: 1)
        let appender = FakeAppender(failing: [0: .streamNotFound("s", account: "000000000000")])
        var reader = try putRecords([HashKey(0), HashKey(5)])
        await #expect(throws: KinesisError.self) {
            _ = try await service(metadata, appender).putRecords(&reader, FakeMetadata.namespace, reach: .leader)
        }
    }

    /// One shard copy holding two records at index 1.
    struct OneEntryShard: ReadableShard, ShardReaders {
        let shard: ShardMetadata
        var firstIndex: LogIndex { LogIndex(1) }
        var committedIndex: LogIndex { LogIndex(1) }
        func firstIndex(atOrAfterTimestamp millis: Int64) async throws -> LogIndex? { LogIndex(1) }
        func read(
            from start: LogPosition,
            limit: Int,
            maxBytes: Int,
            horizonMillis: Int64
        ) async throws -> ShardReader.Page {
            let records = (0..<2).map { slot in
                ShardReader.Record(
                    position: LogPosition(index: LogIndex(1), slot: UInt16(slot)),
                    stampMillis: 1_700_000_000_000,
                    partitionKey: "k\(slot)",
                    data: [UInt8(slot)]
                )
            }
            return ShardReader.Page(
                records: records,
                next: LogPosition(index: LogIndex(2), slot: 0),
                byteCount: 2,
                millisBehindLatest: 0
            )
        }
        func sequenceNumber(index: LogIndex, slot: UInt16, stampMillis: Int64) -> SequenceNumber {
            shard.sequenceNumber(index: index, slot: slot, stampMillis: stampMillis)
        }
        func servingShard(_ stream: StreamMetadata, _ shard: ShardMetadata) async throws -> any ReadableShard { self }
    }

    @Test("an iterator from GetShardIterator reads the leader copy's records, numbered by entry and slot")
    func iteratorThenRead() async throws {
        let metadata = try await FakeMetadata.withStream()
        let shard = try #require(metadata.catalog.stream("s", in: FakeMetadata.namespace)?.shards.first)
        let clock = ManualWallClock()
        let records = RecordsService(
            metadata: metadata,
            appender: FakeAppender(),
            readers: OneEntryShard(shard: shard),
            throughput: ThroughputLimiter(enabled: false, clock: clock, metrics: NodeMetrics()),
            shardMaps: ShardMapCache(),
            clock: clock,
            metrics: NodeMetrics()
        )
        var get = try RequestReader(
            bytes: Array(
                #"{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"#.utf8
            )
        )
        let issued = try JSONParser.parse(try await records.getShardIterator(&get, FakeMetadata.namespace).body)
        guard case .object(let object) = issued, case .string(let iterator)? = object["ShardIterator"] else {
            Issue.record("no iterator")
            return
        }
        var read = try RequestReader(bytes: Array(#"{"ShardIterator":"\#(iterator)"}"#.utf8))
        let page = String(decoding: try await records.getRecords(&read, FakeMetadata.namespace).body, as: UTF8.self)
        let first = shard.sequenceNumber(index: LogIndex(1), slot: 0, stampMillis: 1_700_000_000_000).description
        #expect(page.hasPrefix(#"{"Records":[{"SequenceNumber":"\#(first)""#))
        #expect(page.contains(#""PartitionKey":"k1""#))
        #expect(page.contains(#""NextShardIterator":"#))
        clock.advance(byMillis: 300_001)
        var expired = try RequestReader(bytes: Array(#"{"ShardIterator":"\#(iterator)"}"#.utf8))
        await #expect(throws: KinesisError.self) { _ = try await records.getRecords(&expired, FakeMetadata.namespace) }
    }
}
