import RillCluster
import RillGossip
import RillKinesis
import RillModel
import Testing

/// The console's event log: a bounded ring, and which gossip changes make an event.
@Suite struct ClusterEventTests {
    static func event(_ n: Int64) -> ClusterEvent { ClusterEvent(timeMillis: n, kind: .becameLeader, member: 1) }

    @Test(arguments: [1, 3, 5, 8]) func theLogKeepsTheNewestOldestFirst(appended: Int) {
        var log = ClusterEventLog(capacity: 3)
        for n in 0..<Int64(appended) { log.append(Self.event(n)) }
        let expected = (max(0, appended - 3)..<appended).map { Self.event(Int64($0)) }
        #expect(log.events == expected)
    }

    static func member(_ status: SWIM.Status, incarnation: UInt64 = 7) -> SWIM.Member {
        SWIM.Member(
            id: NodeID(2),
            zone: Zone("az-b"),
            role: .node,
            apiAddress: "127.0.0.1:4568",
            peerAddress: "127.0.0.1:4668",
            incarnation: incarnation,
            status: status
        )
    }

    @Test func aNewMemberJoinsAndEachStateChangeIsAnEvent() {
        let alive = Self.member(.alive)
        #expect(ClusterEvent.memberChange(from: nil, to: alive, atMillis: 5)?.kind == .memberJoined)
        #expect(ClusterEvent.memberChange(from: alive, to: Self.member(.dead), atMillis: 5)?.kind == .memberDead)
        let dead = ClusterEvent.memberChange(from: alive, to: Self.member(.dead), atMillis: 9)
        #expect(
            dead
                == ClusterEvent(
                    timeMillis: 9,
                    kind: .memberDead,
                    member: 2,
                    detail: "node in az-b, dead, incarnation 7"
                )
        )
        #expect(ClusterEvent.memberChange(from: Self.member(.dead), to: alive, atMillis: 5)?.kind == .memberAlive)
        #expect(ClusterEvent.memberChange(from: alive, to: Self.member(.left), atMillis: 5)?.kind == .memberLeft)
        // A restart (new incarnation, still alive) is worth a line too.
        #expect(
            ClusterEvent.memberChange(from: alive, to: Self.member(.alive, incarnation: 8), atMillis: 5)?.kind
                == .memberAlive
        )
    }

    @Test func aPayloadOnlyUpdateIsNoEvent() {
        var hinted = Self.member(.alive)
        hinted.hintsVersion = 3
        #expect(ClusterEvent.memberChange(from: Self.member(.alive), to: hinted, atMillis: 5) == nil)
    }

    @Test func eventsAreWrittenAsTheConsoleReadsThem() {
        var w = JSONWriter()
        w.beginObject()
        let recorder = ClusterEventRecorder(capacity: 4)
        recorder.record(
            ClusterEvent(timeMillis: 12, kind: .becameLeader, member: 3, group: "s1/shardId-000000000000", term: 4)
        )
        recorder.write(into: &w)
        w.endObject()
        #expect(
            String(decoding: w.bytes, as: UTF8.self)
                == #"{"events":[{"timeMillis":12,"kind":"became-leader","member":3,"group":"s1/shardId-000000000000","term":4,"detail":""}]}"#
        )
    }

    static let namespace = Namespace(account: "000000000000", region: "us-east-1")

    @Test func streamsCreatedDeletedAndReshardedAreEventsStampedByTheEntry() {
        let create = CreateStreamCommand(
            namespace: Self.namespace,
            name: "orders",
            id: "s-1",
            shardCount: 3,
            mode: .onDemand,
            createdMillis: 1,
            epoch: 1,
            tags: [:],
            maxRecordSizeKiB: 1024
        )
        #expect(
            ClusterEvent.catalogChange(.createStream(create), stampMillis: 40)
                == ClusterEvent(
                    timeMillis: 40,
                    kind: .streamCreated,
                    group: "s-1",
                    detail: "orders: 3 shards, ON_DEMAND"
                )
        )
        #expect(
            ClusterEvent.catalogChange(.deleteStream(namespace: Self.namespace, name: "orders"), stampMillis: 41)
                == ClusterEvent(timeMillis: 41, kind: .streamDeleted, detail: "orders")
        )
        let half = ReshardCommand.Child(startingHashKey: "0", endingHashKey: "1")
        let split = ReshardCommand(
            namespace: Self.namespace,
            name: "orders",
            parents: [.init(index: 2, sealIndex: 9)],
            children: [half, half],
            epoch: 2,
            millis: 42
        )
        #expect(
            ClusterEvent.catalogChange(.reshard(split), stampMillis: 42)?.detail
                == "orders: split shardId-000000000002 into 2"
        )
        var merge = split
        merge.parents = [.init(index: 0, sealIndex: 3), .init(index: 1, sealIndex: 4)]
        merge.children = [half]
        #expect(
            ClusterEvent.catalogChange(.reshard(merge), stampMillis: 43)?.detail
                == "orders: merged shardId-000000000000 and shardId-000000000001"
        )
    }

    @Test func tagsLeasesAndBarriersAreNoEvents() {
        #expect(
            ClusterEvent.catalogChange(
                .addTags(namespace: Self.namespace, name: "orders", tags: ["a": "b"]),
                stampMillis: 1
            ) == nil
        )
        #expect(ClusterEvent.catalogChange(.barrier(node: 1, nonce: 2), stampMillis: 1) == nil)
        #expect(ClusterEvent.catalogChange(.removeMember(id: 3), stampMillis: 1) == nil)
    }
}
