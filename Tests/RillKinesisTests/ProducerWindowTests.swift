import Foundation
import RillKinesis
import Testing

@Suite struct ProducerWindowTests {
    @Test(
        "a retry of a committed record is a duplicate with its first sequence number; gaps and ancient retries are refused"
    )
    func verdicts() {
        var limits = ProducerWindow.Limits()
        limits.window = 3
        var window = ProducerWindow(limits: limits)
        #expect(window.verdict(producer: "p", sequence: 7) == .new, "a producer may start anywhere")
        for sequence in UInt64(7)...11 {
            window.apply(producer: "p", sequence: sequence, sequenceNumber: "sn\(sequence)", atMillis: 0)
        }
        #expect(window.verdict(producer: "p", sequence: 12) == .new)
        #expect(window.verdict(producer: "p", sequence: 10) == .duplicate(sequenceNumber: "sn10"))
        #expect(window.verdict(producer: "p", sequence: 9) == .duplicate(sequenceNumber: "sn9"))
        #expect(window.verdict(producer: "p", sequence: 8) == .tooOld(oldestRemembered: 9))
        #expect(window.verdict(producer: "p", sequence: 14) == .outOfOrder(expected: 12))
        #expect(window.verdict(producer: "q", sequence: 0) == .new, "producers are independent")
        // A duplicate that reached the log anyway is skipped where records apply.
        #expect(
            window.apply(producer: "p", sequence: 11, sequenceNumber: "again", atMillis: 1)
                == .duplicate(sequenceNumber: "sn11")
        )
    }

    @Test("idle producers expire, the producer count is bounded, and the state survives a snapshot")
    func bounds() throws {
        var limits = ProducerWindow.Limits()
        limits.idleExpiryMillis = 1_000
        limits.maxProducers = 3
        var window = ProducerWindow(limits: limits)
        for (index, producer) in ["a", "b", "c", "d"].enumerated() {
            window.apply(producer: producer, sequence: 0, sequenceNumber: "s", atMillis: Int64(index) * 100)
        }
        #expect(window.producerCount == 3)
        #expect(window.verdict(producer: "a", sequence: 0) == .new, "the longest idle went first")
        let restored = try JSONDecoder().decode(ProducerWindow.self, from: JSONEncoder().encode(window))
        #expect(restored == window)
        window.expire(atMillis: 1_150)
        #expect(window.producerCount == 2, "b (seen at 100) expired; c and d remain")
    }

    /// Producers retry at random, a retry can race its original into the log (two copies of one record in the
    /// log, as across a leader change), entries apply in log order: every producer sequence is stored once and
    /// every answer names the sequence number of that one copy.
    @Test("seeded: every producer sequence stored exactly once, whatever the retries", arguments: 0..<100)
    func exactlyOnce(seed: Int) {
        var random = SplitMix(seed: UInt64(seed))
        var window = ProducerWindow()
        var inFlight = InFlightProducers()
        var log: [(producer: String, sequence: UInt64)] = []
        var stored: [String: [UInt64: String]] = [:]
        var answers: [String: [UInt64: String]] = [:]
        var next: [String: UInt64] = [:]
        var applied = 0
        for step in 0..<2_000 {
            let producer = "p\(random.below(5))"
            let sequence = next[producer, default: 0]
            // The leader: a record in flight is not proposed twice; a committed one is answered from the window.
            switch window.verdict(producer: producer, sequence: sequence) {
            case .duplicate(let sn):
                answers[producer, default: [:]][sequence] = sn
                next[producer] = sequence + 1
            case .new:
                if inFlight.index(producer: producer, sequence: sequence) == nil || random.below(10) == 0 {
                    // One in ten models a leader change: the new leader's in-flight view is empty.
                    log.append((producer, sequence))
                    inFlight.proposed(producer: producer, sequence: sequence, index: log.count)
                }
                // The client's ack may be lost (it will retry the same sequence) or arrive (it moves on).
                if random.below(3) == 0, applied == log.count { next[producer] = sequence + 1 }
            case .tooOld, .outOfOrder:
                Issue.record("seed \(seed): unexpected refusal at step \(step)")
            }
            // Commit and apply a few entries.
            for _ in 0..<random.below(3) where applied < log.count {
                let entry = log[applied]
                applied += 1
                let sn = "sn\(applied)"
                if window.apply(
                    producer: entry.producer,
                    sequence: entry.sequence,
                    sequenceNumber: sn,
                    atMillis: Int64(step)
                ) == .new {
                    #expect(stored[entry.producer]?[entry.sequence] == nil, "seed \(seed): stored twice")
                    stored[entry.producer, default: [:]][entry.sequence] = sn
                }
                inFlight.settled(producer: entry.producer, sequence: entry.sequence)
            }
        }
        for (producer, byProducer) in answers {
            for (sequence, sn) in byProducer {
                #expect(stored[producer]?[sequence] == sn, "seed \(seed): answered a copy that is not the stored one")
            }
        }
    }
}
