import RillKinesis
import RillModel
import Testing

/// Consumer groups as catalog state (`Catalog+ConsumerGroups.swift`): replicated, following reshards.
@Suite struct ConsumerGroupCatalogTests {
    let namespace = Namespace(account: "000000000000", region: "us-east-1")

    struct Replica {
        var catalog = Catalog()
        var index: UInt64 = 1
        @discardableResult
        mutating func apply(_ command: CatalogCommand) -> Result<Void, KinesisError> {
            defer { index += 1 }
            return catalog.apply(command, at: LogIndex(index))
        }
    }

    func replica(shards: Int) -> Replica {
        var replica = Replica()
        replica.apply(
            .setMembers([
                ClusterMember(id: 1, zone: "az-a"), ClusterMember(id: 2, zone: "az-b"),
                ClusterMember(id: 3, zone: "az-c"),
            ])
        )
        replica.apply(
            .createStream(
                CreateStreamCommand(
                    namespace: namespace,
                    name: "s",
                    id: "s-id",
                    shardCount: shards,
                    mode: .provisioned,
                    createdMillis: 0,
                    epoch: 1,
                    tags: [:],
                    maxRecordSizeKiB: 1024
                )
            )
        )
        return replica
    }

    func lease(_ command: LeaseCommand) -> CatalogCommand {
        .consumerGroup(.lease(namespace: namespace, stream: "s", group: "g", command))
    }

    @Test(
        "a group gets a lease per shard; a reshard adds the children with their parents; deleting the stream drops it"
    )
    func followsTheStream() throws {
        var replica = replica(shards: 2)
        #expect(throws: Never.self) {
            try replica.apply(
                .consumerGroup(
                    .create(namespace: namespace, stream: "s", group: "g", initialPosition: .trimHorizon, atMillis: 0)
                )
            ).get()
        }
        #expect(
            replica.catalog.consumerGroup("g", of: "s", in: namespace)?.leases.leases.keys.sorted() == [
                "shardId-000000000000", "shardId-000000000001",
            ]
        )
        let parent = try #require(replica.catalog.stream("s", in: namespace)?.shards[0])
        let middle = HashKey(parent.hashRange.start.rawValue + 1000)
        replica.apply(
            .reshard(
                ReshardCommand(
                    namespace: namespace,
                    name: "s",
                    parents: [.init(index: 0, sealIndex: 10)],
                    children: [
                        .init(startingHashKey: parent.startingHashKey, endingHashKey: String(middle.rawValue - 1)),
                        .init(startingHashKey: middle.description, endingHashKey: parent.endingHashKey),
                    ],
                    epoch: 2,
                    millis: 5
                )
            )
        )
        let leases = try #require(replica.catalog.consumerGroup("g", of: "s", in: namespace)?.leases)
        #expect(leases.leases["shardId-000000000002"]?.parents == ["shardId-000000000000"])
        #expect(
            leases.workable().map(\.shardID) == ["shardId-000000000000", "shardId-000000000001"],
            "children wait for their parent"
        )
        #expect(throws: KinesisError(.resourceInUse, "Consumer group g already exists on stream s.")) {
            try replica.apply(
                .consumerGroup(
                    .create(namespace: namespace, stream: "s", group: "g", initialPosition: .latest, atMillis: 0)
                )
            ).get()
        }
        replica.apply(.deleteStream(namespace: namespace, name: "s"))
        #expect(replica.catalog.consumerGroup("g", of: "s", in: namespace) == nil)
    }

    @Test("lease refusals are the same failure on every replica, and replicas that apply the same log agree")
    func replicasAgree() throws {
        var a = replica(shards: 1)
        var b = replica(shards: 1)
        let commands: [CatalogCommand] = [
            .consumerGroup(
                .create(namespace: namespace, stream: "s", group: "g", initialPosition: .trimHorizon, atMillis: 0)
            ),
            lease(
                .take(
                    shardID: "shardId-000000000000",
                    worker: "w1",
                    expectedToken: 0,
                    atMillis: 0,
                    durationMillis: 10_000
                )
            ),
            lease(
                .take(
                    shardID: "shardId-000000000000",
                    worker: "w2",
                    expectedToken: 0,
                    atMillis: 1,
                    durationMillis: 10_000
                )
            ),
            lease(
                .checkpoint(
                    shardID: "shardId-000000000000",
                    worker: "w1",
                    token: 1,
                    .at(sequenceNumber: "5", subSequence: 0)
                )
            ),
            lease(
                .checkpoint(
                    shardID: "shardId-000000000000",
                    worker: "w2",
                    token: 1,
                    .at(sequenceNumber: "9", subSequence: 0)
                )
            ),
            // A client may not rewrite the shard list.
            lease(.syncShards([], atMillis: 2)),
        ]
        var outcomes: [[Bool]] = [[], []]
        for command in commands {
            outcomes[0].append((try? a.apply(command).get()) != nil)
            outcomes[1].append((try? b.apply(command).get()) != nil)
        }
        #expect(outcomes[0] == [true, true, false, true, false, true])
        #expect(outcomes[0] == outcomes[1])
        #expect(a.catalog == b.catalog)
        let group = try #require(a.catalog.consumerGroup("g", of: "s", in: namespace))
        #expect(group.leases.leases["shardId-000000000000"]?.checkpoint == .at(sequenceNumber: "5", subSequence: 0))
        #expect(group.leases.leases.count == 1)
    }
}
