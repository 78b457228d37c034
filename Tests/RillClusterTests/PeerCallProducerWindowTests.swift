import RillKinesis
import RillModel
import Testing

@testable import RillCluster

@Suite struct PeerCallProducerWindowTests {
    @Test("asking a parent's replica for its final producer window, and its answer, survive the wire")
    func producerWindowCall() throws {
        let call = PeerCall.producerWindow(streamID: "stream-1", shard: 3, sealIndex: 4_711)
        #expect(try PeerCall(decoding: call.encoded()) == call)
        var window = ProducerWindow()
        window.apply(producer: "p", sequence: 9, at: RecordPosition(index: LogIndex(12), slot: 3, stampMillis: 5_000))
        let answer = PeerAnswer.producerWindow(window.encoded())
        #expect(try PeerAnswer(decoding: answer.encoded()) == answer)
    }

    @Test("a producer's outcomes keep the parent shard a retry was answered from; others keep their old bytes")
    func outcomesWithOrigin() throws {
        let own = RecordPosition(index: LogIndex(7), slot: 1, stampMillis: 9_000)
        let parents = RecordPosition(
            index: LogIndex(3),
            slot: 0,
            stampMillis: 8_000,
            origin: ShardOrigin(index: 0, epoch: 1_700_000_000)
        )
        let answer = PeerAnswer.appendedOnce([.success(own), .success(parents), .failure(.internalFailure("x"))])
        #expect(try PeerAnswer(decoding: answer.encoded()) == answer)
        // Without an origin an outcome is written as before (tag 1), so older nodes read it.
        let plain = PeerAnswer.appendedOnce([.success(own)]).encoded()
        #expect(plain[2...5].elementsEqual([0, 0, 0, 1]) && plain[6] == 1)
        var damaged = PeerAnswer.appendedOnce([.success(parents)]).encoded()
        // An epoch no sequence number can hold is refused, not trapped on later.
        damaged.replaceSubrange(11..<19, with: [UInt8](repeating: 0xff, count: 8))
        #expect(throws: WireError.self) { try PeerAnswer(decoding: damaged) }
    }
}
