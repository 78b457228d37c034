import RillKinesis
import RillModel
import Testing

/// The producer window across a reshard: a child takes over its sealed parents' final windows.
@Suite struct ProducerWindowInheritanceTests {
    static let parent = ShardOrigin(index: 0, epoch: 1_700_000_000)
    static let sibling = ShardOrigin(index: 1, epoch: 1_700_000_000)
    static let child = ShardOrigin(index: 2, epoch: 1_700_000_100)

    static func at(_ index: UInt64, _ slot: UInt16 = 0, from origin: ShardOrigin? = nil) -> RecordPosition {
        RecordPosition(index: LogIndex(index), slot: slot, stampMillis: 1_700_000_000_000, origin: origin)
    }

    static func window(
        _ sequences: some Sequence<UInt64>,
        producer: String = "p",
        limits: ProducerWindow.Limits
    )
        -> ProducerWindow
    {
        var window = ProducerWindow(limits: limits)
        for sequence in sequences { window.apply(producer: producer, sequence: sequence, at: at(sequence + 1)) }
        return window
    }

    @Test("after a split a retry of a record the parent stored is a duplicate naming the parent's copy")
    func split() {
        let limits = ProducerWindow.Limits()
        let parentWindow = Self.window(UInt64(0)..<10, limits: limits)
        var child = ProducerWindow(limits: limits)
        #expect(!child.inherited)
        child.inherit([ProducerWindow.inheritance(from: [(Self.parent, parentWindow)], limits: limits)])
        #expect(child.inherited)
        #expect(child.verdict(producer: "p", sequence: 4) == .duplicate(Self.at(5, from: Self.parent)))
        #expect(child.verdict(producer: "p", sequence: 10) == .new, "the next record is new in the child")
        #expect(child.verdict(producer: "q", sequence: 0) == .new)
        // The answer is the parent's ShardId and the sequence number the parent gave the record.
        guard case .duplicate(let position) = child.verdict(producer: "p", sequence: 4) else {
            Issue.record("not a duplicate")
            return
        }
        let (shard, sequence) = position.stored(answeredBy: Self.child)
        #expect(shard == ShardID(index: Self.parent.index))
        #expect(
            sequence
                == SequenceNumber(
                    epoch: Self.parent.epoch,
                    index: LogIndex(5),
                    slot: 0,
                    arrivalSeconds: 1_700_000_000,
                    shardIndex: Self.parent.index
                )
        )
        // A record the child stores itself is numbered by the child.
        child.apply(producer: "p", sequence: 10, at: Self.at(3))
        guard case .duplicate(let own) = child.verdict(producer: "p", sequence: 10) else {
            Issue.record("not a duplicate")
            return
        }
        #expect(own.origin == nil)
        #expect(own.stored(answeredBy: Self.child).shard == ShardID(index: Self.child.index))
    }

    @Test("after a merge both parents' records are known, within the same bound per producer")
    func merge() {
        var limits = ProducerWindow.Limits()
        limits.window = 4
        // The producer's numbers went to both parents: evens to one, odds to the other.
        let first = Self.window(stride(from: UInt64(0), to: 12, by: 2), limits: limits)  // keeps 4, 6, 8, 10
        let second = Self.window(stride(from: UInt64(1), to: 12, by: 2), limits: limits)  // keeps 5, 7, 9, 11
        let inheritance = ProducerWindow.inheritance(
            from: [(Self.parent, first), (Self.sibling, second)],
            limits: limits
        )
        var child = ProducerWindow(limits: limits)
        child.inherit([inheritance])
        #expect(child.verdict(producer: "p", sequence: 11) == .duplicate(Self.at(12, from: Self.sibling)))
        #expect(child.verdict(producer: "p", sequence: 10) == .duplicate(Self.at(11, from: Self.parent)))
        #expect(child.verdict(producer: "p", sequence: 8) == .duplicate(Self.at(9, from: Self.parent)))
        // Four records fit: 8 to 11 stay; 7 and below are older than the window, refused rather than stored again.
        #expect(child.verdict(producer: "p", sequence: 7) == .tooOld(forgottenThrough: 7))
        #expect(child.verdict(producer: "p", sequence: 2) == .tooOld(forgottenThrough: 7))
        #expect(child.verdict(producer: "p", sequence: 12) == .new)
        // The child's own records push the inherited ones out like any others.
        for sequence in UInt64(12)..<16 { child.apply(producer: "p", sequence: sequence, at: Self.at(sequence)) }
        #expect(child.verdict(producer: "p", sequence: 11) == .tooOld(forgottenThrough: 11))
    }

    @Test("the producer bound holds after a merge: the longest idle producers go")
    func producerBound() {
        var limits = ProducerWindow.Limits()
        limits.maxProducers = 3
        var first = ProducerWindow(limits: limits)
        var second = ProducerWindow(limits: limits)
        for (offset, producer) in ["a", "b", "c"].enumerated() {
            first.apply(
                producer: producer,
                sequence: 0,
                at: RecordPosition(index: LogIndex(1), slot: 0, stampMillis: 10 * Int64(offset))
            )
        }
        for (offset, producer) in ["d", "e"].enumerated() {
            second.apply(
                producer: producer,
                sequence: 0,
                at: RecordPosition(index: LogIndex(1), slot: 0, stampMillis: 100 + Int64(offset))
            )
        }
        let child = ProducerWindow.inheritance(from: [(Self.parent, first), (Self.sibling, second)], limits: limits)
        #expect(child.producerCount == 3)
        #expect(child.verdict(producer: "a", sequence: 0) == .new, "a (seen at 0) went first")
        #expect(child.verdict(producer: "b", sequence: 0) == .new)
        #expect(child.verdict(producer: "c", sequence: 0) != .new)
        #expect(child.verdict(producer: "e", sequence: 0) != .new)
    }

    @Test("taking over the same windows twice changes nothing, before or after the child's own records")
    func idempotent() {
        var limits = ProducerWindow.Limits()
        limits.window = 5
        let inheritance = ProducerWindow.inheritance(
            from: [(Self.parent, Self.window(UInt64(0)..<8, limits: limits))],
            limits: limits
        )
        var child = ProducerWindow(limits: limits)
        child.inherit([inheritance])
        let once = child
        child.inherit([inheritance])
        #expect(child == once)
        child.apply(producer: "p", sequence: 8, at: Self.at(2))
        child.apply(producer: "p", sequence: 9, at: Self.at(3))
        let later = child
        child.inherit([inheritance])
        #expect(child == later, "records the child's own pushed out do not come back")
    }

    @Test("a grandchild answers with the grandparent's copy; a parent that took nothing over passes it on")
    func lineage() {
        let limits = ProducerWindow.Limits()
        let grandparent = Self.window(UInt64(0)..<3, limits: limits)
        // The parent took over its own parent's window, then stored 3 and 4.
        var parent = ProducerWindow(limits: limits)
        parent.inherit([ProducerWindow.inheritance(from: [(Self.parent, grandparent)], limits: limits)])
        parent.apply(producer: "p", sequence: 3, at: Self.at(7))
        parent.apply(producer: "p", sequence: 4, at: Self.at(8))
        let child = ProducerWindow.inheritance(from: [(Self.sibling, parent)], limits: limits)
        #expect(child.verdict(producer: "p", sequence: 1) == .duplicate(Self.at(2, from: Self.parent)))
        #expect(child.verdict(producer: "p", sequence: 4) == .duplicate(Self.at(8, from: Self.sibling)))
    }

    @Test("snapshot and replay rebuild the same window; a window that took nothing over keeps the old format")
    func snapshotAndReplay() throws {
        var limits = ProducerWindow.Limits()
        limits.window = 6
        let plain = Self.window(UInt64(0)..<4, limits: limits)
        #expect(plain.encoded().first == 1, "readable by builds from before inheritance")
        let inheritance = ProducerWindow.inheritance(
            from: [
                (Self.parent, Self.window(UInt64(0)..<5, limits: limits)),
                (Self.sibling, Self.window(UInt64(5)..<9, limits: limits)),
            ],
            limits: limits
        )
        let payload = ProducerInheritance.payload(inheritance)
        #expect(try ProducerInheritance.window(fromPayload: [], limits: limits) == nil, "a plain noop")
        #expect(throws: ProducerWindow.DecodeError.self) { try ProducerInheritance.window(fromPayload: [1, 2, 3]) }
        #expect(throws: ProducerWindow.DecodeError.self) {
            try ProducerInheritance.window(fromPayload: Array(payload.dropLast()))
        }
        // The child's log: the inheritance entry, then records of its own.
        func replay(_ window: inout ProducerWindow, from step: Int) throws {
            let log: [(UInt64, RecordPosition)] = (9..<14).map { ($0, Self.at($0)) }
            if step == 0, let taken = try ProducerInheritance.window(fromPayload: payload, limits: limits) {
                window.inherit([taken])
            }
            for (sequence, position) in log.dropFirst(max(0, step - 1)) {
                window.apply(producer: "p", sequence: sequence, at: position)
            }
        }
        var live = ProducerWindow(limits: limits)
        try replay(&live, from: 0)
        let restored = try ProducerWindow(decoding: live.encoded(), limits: limits)
        #expect(restored == live)
        #expect(restored.inherited)
        #expect(restored.encoded() == live.encoded(), "the same window encodes to the same bytes")
        #expect(live.encoded().first == 2)
        // A restart from a snapshot taken after the inheritance entry, entries replayed on top.
        var replayed = restored
        try replay(&replayed, from: 0)
        #expect(replayed == live)
        // A restart with no snapshot: the whole log again.
        var fresh = ProducerWindow(limits: limits)
        try replay(&fresh, from: 0)
        #expect(fresh == live)
    }
}
