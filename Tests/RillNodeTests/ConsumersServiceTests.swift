import NIOConcurrencyHelpers
import RillAPI
import RillKinesis
import RillModel
import Testing

@testable import RillNode

/// The consumers service against an in-memory catalog and a subscription source that records the hand-off.
@Suite struct ConsumersServiceTests {
    /// Records what it was asked to subscribe to and refuses to make events.
    final class RecordingSource: SubscriptionSource {
        struct Refused: Error {}
        let asked = NIOLockedValueBox<[(shard: String, type: ShardIteratorType)]>([])
        func subscribe(
            stream: StreamMetadata,
            shard: ShardMetadata,
            from start: SubscriptionStart,
            namespace: Namespace
        ) async throws -> any EventSubscription {
            asked.withLockedValue { $0.append((shard.id.name, start.type)) }
            throw Refused()
        }
    }

    func reader(_ json: String) throws -> RequestReader { try RequestReader(bytes: Array(json.utf8)) }

    @Test("a registered consumer is described and listed; a subscription hands its shard to the source")
    func registerDescribeSubscribe() async throws {
        let metadata = try await FakeMetadata.withStream()
        let consumers = ConsumersService(metadata: metadata, proposer: metadata, clock: ManualWallClock())
        let streamARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        var register = try reader(#"{"StreamARN":"\#(streamARN)","ConsumerName":"c"}"#)
        _ = try await consumers.registerConsumer(&register, FakeMetadata.namespace)
        var list = try reader(#"{"StreamARN":"\#(streamARN)"}"#)
        let listed = try JSONParser.parse(try consumers.listConsumers(&list, FakeMetadata.namespace).body)
        guard case .object(let object) = listed, case .array(let items)? = object["Consumers"],
            case .object(let first)? = items.first, case .string(let arn)? = first["ConsumerARN"]
        else {
            Issue.record("no consumer listed")
            return
        }
        let source = RecordingSource()
        var subscribe = try reader(
            #"{"ConsumerARN":"\#(arn)","ShardId":"shardId-000000000000","StartingPosition":{"Type":"LATEST"}}"#
        )
        await #expect(throws: RecordingSource.Refused.self) {
            _ = try await consumers.subscribe(&subscribe, FakeMetadata.namespace, from: source)
        }
        #expect(source.asked.withLockedValue { $0.map(\.shard) } == ["shardId-000000000000"])
        var unknownShard = try reader(
            #"{"ConsumerARN":"\#(arn)","ShardId":"shardId-000000000007","StartingPosition":{"Type":"LATEST"}}"#
        )
        await #expect(throws: KinesisError.self) {
            _ = try await consumers.subscribe(&unknownShard, FakeMetadata.namespace, from: source)
        }
        #expect(source.asked.withLockedValue { $0.count } == 1)
    }
}
