import RillAPI
import RillKinesis
import RillModel
import Testing

@testable import RillNode

/// The consumer-group service against an in-memory catalog and a hand-moved clock: leases expire by the clock
/// the shell supplies, balancing happens on AcquireLeases, and a fenced-out worker is refused.
@Suite struct ConsumerGroupsServiceTests {
    let namespace = FakeMetadata.namespace

    func reader(_ json: String) throws -> RequestReader { try RequestReader(bytes: Array(json.utf8)) }

    func object(_ response: APIResponse) throws -> JSONObject {
        guard case .object(let object) = try JSONParser.parse(response.body) else {
            throw KinesisError(.internalFailure, "not an object")
        }
        return object
    }

    /// The shards a worker holds after AcquireLeases, with their tokens.
    func acquire(_ service: ConsumerGroupsService, _ worker: String) async throws -> [String: Int] {
        var r = try reader(#"{"StreamName":"s","GroupName":"g","WorkerId":"\#(worker)"}"#)
        guard case .array(let leases)? = try object(try await service.acquireLeases(&r, namespace))["Leases"] else {
            return [:]
        }
        var held: [String: Int] = [:]
        for case .object(let lease) in leases {
            guard case .string(let shard)? = lease["ShardId"], case .number(let token)? = lease["LeaseToken"] else {
                continue
            }
            held[shard] = Int(token)
        }
        return held
    }

    func lease(_ service: ConsumerGroupsService, _ call: String, worker: String, shard: Int, token: Int) async throws {
        var r = try reader(
            #"{"StreamName":"s","GroupName":"g","WorkerId":"\#(worker)","ShardId":"shardId-00000000000\#(shard)","LeaseToken":\#(token)}"#
        )
        switch call {
        case "renew": _ = try await service.renewLease(&r, namespace)
        case "release": _ = try await service.releaseLease(&r, namespace)
        default: Issue.record("unknown call \(call)")
        }
    }

    @Test("leases expire by the supplied clock; an expired lease goes to the next worker and the old owner is fenced")
    func expiryAndFencing() async throws {
        let metadata = try await FakeMetadata.withStream(shards: 2)
        let clock = ManualWallClock()
        let service = ConsumerGroupsService(metadata: metadata, proposer: metadata, clock: clock)
        var create = try reader(#"{"StreamName":"s","GroupName":"g","FailoverTimeMillis":5000}"#)
        _ = try await service.createGroup(&create, namespace)
        let first = try await acquire(service, "w1")
        #expect(first == ["shardId-000000000000": 1, "shardId-000000000001": 1])
        clock.advance(byMillis: 4_000)
        try await lease(service, "renew", worker: "w1", shard: 0, token: 1)
        clock.advance(byMillis: 2_000)
        // shard 1 expired at 5 s; shard 0 was renewed at 4 s and holds until 9 s. w2's fair share is one lease.
        #expect(try await acquire(service, "w2") == ["shardId-000000000001": 2])
        await #expect(throws: KinesisError.self) {
            try await lease(service, "renew", worker: "w1", shard: 1, token: 1)
        }
        let sequence = SequenceNumber(
            entry: LogIndex(5),
            slot: 0,
            stampMillis: clock.nowMillis(),
            epoch: metadata.catalog.stream("s", in: namespace)!.shards[1].epoch,
            shardIndex: 1
        )
        var stale = try reader(
            #"{"StreamName":"s","GroupName":"g","WorkerId":"w1","ShardId":"shardId-000000000001","LeaseToken":1,"SequenceNumber":"\#(sequence)"}"#
        )
        await #expect(throws: KinesisError(.resourceInUse, "The lease is held by w2.")) {
            _ = try await service.checkpoint(&stale, namespace)
        }
        var fresh = try reader(
            #"{"StreamName":"s","GroupName":"g","WorkerId":"w2","ShardId":"shardId-000000000001","LeaseToken":2,"SequenceNumber":"\#(sequence)","SubSequenceNumber":4}"#
        )
        _ = try await service.checkpoint(&fresh, namespace)
        #expect(
            metadata.catalog.consumerGroup("g", of: "s", in: namespace)?.leases.leases["shardId-000000000001"]?
                .checkpoint == .at(sequenceNumber: sequence.description, subSequence: 4)
        )
        // A release frees the lease at once: w1 takes it back on its next round.
        try await lease(service, "release", worker: "w2", shard: 1, token: 2)
        #expect(try await acquire(service, "w1") == ["shardId-000000000000": 1, "shardId-000000000001": 4])
    }

    @Test("a worker that joins takes one lease per round from the busiest until the spread is even")
    func joiningWorkerSteals() async throws {
        let metadata = try await FakeMetadata.withStream(shards: 4)
        let service = ConsumerGroupsService(metadata: metadata, proposer: metadata, clock: ManualWallClock())
        var create = try reader(#"{"StreamName":"s","GroupName":"g"}"#)
        _ = try await service.createGroup(&create, namespace)
        #expect(try await acquire(service, "w1").count == 4)
        #expect(try await acquire(service, "w2").count == 1)
        #expect(try await acquire(service, "w2").count == 2)
        #expect(try await acquire(service, "w2").count == 2)
        #expect(try await acquire(service, "w1").count == 2)
    }

    @Test("each worker's tie-break order is a fixed permutation of the candidates")
    func spread() {
        let leases = (0..<8).map { Lease(shardID: "shardId-00000000000\($0)", parents: [], checkpoint: .initial) }
        let a = LeaseBalancer.spread(for: "a")(leases).map(\.shardID)
        #expect(a == LeaseBalancer.spread(for: "a")(Array(leases.reversed())).map(\.shardID))
        #expect(Set(a) == Set(leases.map(\.shardID)))
        #expect(a != LeaseBalancer.spread(for: "b")(leases).map(\.shardID))
    }
}
