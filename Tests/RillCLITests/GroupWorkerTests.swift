import Testing

@testable import RillCLI
@testable import RillClient

/// The pure pieces a worker of a consumer group (`rill trigger`, `rill tail --group`) decides with: what a lease
/// round's answer changes, and which checkpoint to send when.
@Suite struct GroupWorkerTests {
    static func lease(
        _ shard: Int,
        token: Int,
        checkpoint: String? = nil,
        finished: Bool = false
    )
        -> KinesisClient.GroupLease
    {
        KinesisClient.GroupLease(
            shardID: "shardId-00000000000\(shard)",
            token: token,
            checkpoint: checkpoint,
            finished: finished
        )
    }

    @Test("a round's answer: new leases start, leases not in it or under another token stop, finished never start")
    func leaseChanges() {
        let working = ["shardId-000000000000": 1, "shardId-000000000001": 4, "shardId-000000000002": 2]
        let answer = [
            Self.lease(0, token: 1, checkpoint: "49"),  // kept
            Self.lease(1, token: 6),  // taken again after it moved: a new tenure
            Self.lease(3, token: 1, checkpoint: "50"),  // new
            Self.lease(4, token: 2, finished: true),  // finished: nothing to read
        ]
        let changes = LeaseChanges(working: working, answer: answer)
        #expect(changes.lost == ["shardId-000000000001", "shardId-000000000002"])
        #expect(changes.gained == [Self.lease(1, token: 6), Self.lease(3, token: 1, checkpoint: "50")])
    }

    @Test("an unchanged answer changes nothing; an empty one stops everything")
    func leaseChangesSteady() {
        let working = ["shardId-000000000000": 3]
        let same = LeaseChanges(working: working, answer: [Self.lease(0, token: 3)])
        #expect(same.lost.isEmpty && same.gained.isEmpty)
        let none = LeaseChanges(working: working, answer: [])
        #expect(none.lost == ["shardId-000000000000"] && none.gained.isEmpty)
    }

    @Test("a lease's own checkpoint is not sent again; the latest handled mark goes, one call at a time")
    func checkpointSlotInOrder() {
        var slot = CheckpointSlot(checkpoint: "10")
        #expect(slot.take() == nil)
        #expect(slot.isSettled)
        slot.handled(through: "11")
        #expect(!slot.isSettled)
        #expect(slot.take() == .sequence("11"))
        slot.handled(through: "12")
        slot.handled(through: "13")
        #expect(slot.take() == nil, "one call in flight at a time")
        slot.succeeded()
        #expect(slot.accepted == .sequence("11"))
        #expect(slot.take() == .sequence("13"), "the latest mark, not each one in between")
        slot.succeeded()
        #expect(slot.isSettled && !slot.isFinished)
    }

    @Test("a failed call makes its mark due again")
    func checkpointSlotRetry() {
        var slot = CheckpointSlot(checkpoint: nil)
        #expect(slot.take() == nil, "nothing handled, nothing to checkpoint")
        slot.handled(through: "5")
        #expect(slot.take() == .sequence("5"))
        slot.failed()
        #expect(!slot.isSettled)
        #expect(slot.take() == .sequence("5"))
        slot.succeeded()
        #expect(slot.isSettled)
    }

    @Test("a closed shard read to its end is checkpointed SHARD_END once, after its records")
    func checkpointSlotShardEnd() {
        var slot = CheckpointSlot(checkpoint: nil)
        slot.handled(through: "7")
        #expect(slot.take() == .sequence("7"))
        slot.finished()
        slot.handled(through: "8")  // nothing moves a shard back from its end
        #expect(slot.take() == nil)
        slot.succeeded()
        #expect(slot.take() == .shardEnd)
        #expect(!slot.isFinished, "finished only once the group has it")
        slot.succeeded()
        #expect(slot.isFinished && slot.isSettled)
    }
}
