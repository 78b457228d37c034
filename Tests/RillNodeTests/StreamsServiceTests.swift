import Logging
import NIOConcurrencyHelpers
import RillKinesis
import RillModel
import Testing

@testable import RillNode

/// The streams and shards service against an in-memory catalog and a replica set that records what it is asked.
@Suite struct StreamsServiceTests {
    final class RecordingReplicas: ReplicaLifecycle {
        let opened = NIOLockedValueBox<[String]>([])
        let sealed = NIOLockedValueBox<[String]>([])
        let dropped = NIOLockedValueBox<[String]>([])

        func openHeldReplicas(of stream: StreamMetadata, shards: [ShardMetadata]) async throws {
            opened.withLockedValue { $0 += shards.map(\.id.name) }
        }
        func dropReplicas(streamID: String) async { dropped.withLockedValue { $0.append(streamID) } }
        func sealShard(stream: StreamMetadata, shard: ShardMetadata) async throws -> LogIndex {
            sealed.withLockedValue { $0.append(shard.id.name) }
            return LogIndex(7)
        }
        func reopen(streamID: String, shard: UInt32) {}
    }

    func service(_ metadata: FakeMetadata, _ replicas: RecordingReplicas) -> StreamsService {
        StreamsService(
            metadata: metadata,
            proposer: metadata,
            replicas: replicas,
            clock: ManualWallClock(),
            metrics: NodeMetrics(),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    func reader(_ json: String) throws -> RequestReader { try RequestReader(bytes: Array(json.utf8)) }

    @Test("CreateStream commits the stream and opens its shards; SplitShard seals the parent before the reshard")
    func createThenSplit() async throws {
        let metadata = try await FakeMetadata.withStream("other")
        let replicas = RecordingReplicas()
        let streams = service(metadata, replicas)
        let ns = FakeMetadata.namespace
        var create = try reader(#"{"StreamName":"s","ShardCount":2}"#)
        _ = try await streams.createStream(&create, ns)
        let created = try #require(metadata.catalog.stream("s", in: ns))
        #expect(created.shards.count == 2)
        #expect(replicas.opened.withLockedValue { $0 } == ["shardId-000000000000", "shardId-000000000001"])
        var split = try reader(
            #"{"StreamName":"s","ShardToSplit":"shardId-000000000000","NewStartingHashKey":"\#(HashKey(1 << 64).description)"}"#
        )
        _ = try await streams.splitShard(&split, ns)
        #expect(replicas.sealed.withLockedValue { $0 } == ["shardId-000000000000"])
        let resharded = try #require(metadata.catalog.stream("s", in: ns))
        #expect(resharded.shards.count == 4)
        #expect(resharded.shards[0].sealIndex == 7)
        #expect(replicas.opened.withLockedValue { $0.suffix(2) } == ["shardId-000000000002", "shardId-000000000003"])
    }

    @Test("creating a stream that exists is ResourceInUse, and nothing is opened")
    func createTwice() async throws {
        let metadata = try await FakeMetadata.withStream()
        let replicas = RecordingReplicas()
        var create = try reader(#"{"StreamName":"s","ShardCount":1}"#)
        await #expect(throws: KinesisError.self) {
            try await service(metadata, replicas).createStream(&create, FakeMetadata.namespace)
        }
        #expect(replicas.opened.withLockedValue { $0 }.isEmpty)
    }

    @Test("DeleteStream commits the delete, then drops the node's copies")
    func delete() async throws {
        let metadata = try await FakeMetadata.withStream()
        let replicas = RecordingReplicas()
        var delete = try reader(#"{"StreamName":"s"}"#)
        _ = try await service(metadata, replicas).deleteStream(&delete, FakeMetadata.namespace)
        #expect(metadata.catalog.stream("s", in: FakeMetadata.namespace) == nil)
        #expect(replicas.dropped.withLockedValue { $0 } == ["s-id"])
    }
}
