import RillKinesis
import Testing

/// When `rill archive` writes an object, which records it holds, and the one-object-in-flight rule that makes a
/// replay after a crash replace rather than duplicate.
@Suite struct ArchiveBufferTests {
    static func record(_ n: Int, bytes: Int = 10, arrival: Int64 = 1_000) -> ArchiveBuffer.Record {
        ArchiveBuffer.Record(
            sequenceNumber: "seq-\(n)",
            arrivalMillis: arrival,
            payloads: [[UInt8](repeating: UInt8(n % 256), count: bytes)]
        )
    }

    static func settings(bytes: Int = 100, intervalMillis: Int64 = 5_000, newline: Bool = false) -> ArchiveSettings {
        ArchiveSettings(
            streamName: "orders",
            bufferBytes: bytes,
            bufferIntervalMillis: intervalMillis,
            newlineDelimiter: newline
        )
    }

    @Test("nothing is due before the size or the interval; the interval counts from the oldest record's reading")
    func waitsForSizeOrInterval() {
        var buffer = ArchiveBuffer(settings: Self.settings())
        #expect(buffer.takeFlush(atMillis: 0) == nil)
        buffer.offer([Self.record(1)], atMillis: 1_000)
        buffer.offer([Self.record(2)], atMillis: 3_000)
        #expect(buffer.deadlineMillis == 6_000)
        #expect(buffer.takeFlush(atMillis: 5_999) == nil)
        let flush = buffer.takeFlush(atMillis: 6_000)
        #expect(flush?.reason == .interval)
        #expect(flush?.records.map(\.sequenceNumber) == ["seq-1", "seq-2"])
        #expect(flush?.checkpoint == "seq-2")
    }

    @Test("the size hint cuts an object at the last record that fits; the rest waits for the next object")
    func sizeCutsAtRecordBoundary() {
        var buffer = ArchiveBuffer(settings: Self.settings(bytes: 100))
        buffer.offer((1...25).map { Self.record($0, bytes: 10) }, atMillis: 0)
        #expect(!buffer.wantsRecords)
        let first = buffer.takeFlush(atMillis: 0)
        #expect(first?.reason == .size)
        #expect(first?.records.count == 10)
        #expect(first?.body(newline: false).count == 100)
        buffer.checkpointed()
        #expect(buffer.takeFlush(atMillis: 0)?.records.first?.sequenceNumber == "seq-11")
    }

    @Test("a record larger than the size hint makes an object of its own")
    func oversizedRecordAlone() {
        var buffer = ArchiveBuffer(settings: Self.settings(bytes: 100))
        buffer.offer([Self.record(1, bytes: 250), Self.record(2)], atMillis: 0)
        #expect(buffer.takeFlush(atMillis: 0)?.records.map(\.sequenceNumber) == ["seq-1"])
    }

    @Test("no second object is taken before the first is checkpointed")
    func oneObjectInFlight() {
        var buffer = ArchiveBuffer(settings: Self.settings(bytes: 20))
        buffer.offer((1...6).map { Self.record($0) }, atMillis: 0)
        let first = buffer.takeFlush(atMillis: 0)
        #expect(first != nil)
        #expect(buffer.takeFlush(atMillis: 10_000) == nil)
        #expect(buffer.takeFlush(atMillis: 10_000, drain: true) == nil)
        buffer.checkpointed()
        #expect(buffer.takeFlush(atMillis: 0)?.first.sequenceNumber == "seq-3")
    }

    @Test("drain takes what is buffered, however little, and nothing when empty")
    func drainTakesEverything() {
        var buffer = ArchiveBuffer(settings: Self.settings())
        buffer.offer([Self.record(1)], atMillis: 0)
        #expect(buffer.takeFlush(atMillis: 0) == nil)
        #expect(buffer.takeFlush(atMillis: 0, drain: true)?.reason == .drain)
        buffer.checkpointed()
        #expect(buffer.isEmpty)
        #expect(buffer.takeFlush(atMillis: 0, drain: true) == nil)
    }

    @Test("the body is the records' data back to back, a newline after each user record when asked")
    func bodyAndNewlines() {
        let aggregate = ArchiveBuffer.Record(
            sequenceNumber: "s",
            arrivalMillis: 0,
            payloads: [Array("a".utf8), Array("bc".utf8)]
        )
        let plain = ArchiveBuffer.Record(sequenceNumber: "t", arrivalMillis: 0, payloads: [Array("d".utf8)])
        let flush = ArchiveBuffer.Flush(records: [aggregate, plain], reason: .drain)
        #expect(flush.body(newline: false) == Array("abcd".utf8))
        #expect(flush.body(newline: true) == Array("a\nbc\nd\n".utf8))
        #expect(flush.userRecords == 3)
        var buffer = ArchiveBuffer(settings: Self.settings(bytes: 8, newline: true))
        buffer.offer([aggregate, plain], atMillis: 0)
        #expect(buffer.pendingBytes == 7)
    }

    /// The crash rule end to end: a run writes an object and dies before its checkpoint; the replay starts at the
    /// checkpoint, reads in different page sizes and cuts at a different place, yet its first object has the old
    /// one's name, so the old object is replaced and every record is in exactly one object.
    @Test("a replay after a crash before the checkpoint names its first object as the lost run did")
    func replayReplacesTheUncheckpointedObject() {
        let records = (1...30).map { Self.record($0, bytes: 10, arrival: 1_765_040_400_000 + Int64($0)) }
        var objects: [String: [String]] = [:]
        func name(_ flush: ArchiveBuffer.Flush) -> String {
            ArchiveObjectName.data(
                settings: Self.settings(),
                shardID: "shardId-000000000000",
                firstSequenceNumber: flush.first.sequenceNumber,
                arrivalMillis: flush.first.arrivalMillis
            ).path
        }
        // First run: objects of 100 bytes; the second is written and the process dies before checkpointing it.
        var first = ArchiveBuffer(settings: Self.settings(bytes: 100))
        first.offer(Array(records[0..<25]), atMillis: 0)
        let a = first.takeFlush(atMillis: 0)!
        objects[name(a)] = a.records.map(\.sequenceNumber)
        first.checkpointed()
        let checkpoint = a.checkpoint
        let b = first.takeFlush(atMillis: 0)!
        objects[name(b)] = b.records.map(\.sequenceNumber)
        // Replay from the checkpoint with a smaller size hint (as if the page came back shorter).
        let resume = records.firstIndex { $0.sequenceNumber == checkpoint }! + 1
        var replay = ArchiveBuffer(settings: Self.settings(bytes: 60))
        replay.offer(Array(records[resume...]), atMillis: 0)
        while let flush = replay.takeFlush(atMillis: 0, drain: true) {
            objects[name(flush)] = flush.records.map(\.sequenceNumber)
            replay.checkpointed()
        }
        let archived = objects.values.flatMap { $0 }
        #expect(archived.sorted() == records.map(\.sequenceNumber).sorted())
    }

    @Test("writes are retried, then the records go to the error output")
    func writeAttempts() {
        let settings = Self.settings()
        #expect(settings.afterFailedWrite(attempts: 1) == .retry)
        #expect(settings.afterFailedWrite(attempts: 3) == .retry)
        #expect(settings.afterFailedWrite(attempts: 4) == .errorOutput)
    }
}
