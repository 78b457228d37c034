import RillKinesis
import Testing

@Suite struct FanOutPacerTests {
    @Test("a backlog is sent at 2 MiB a second after the first second's allowance")
    func backlogIsPaced() {
        var pacer = FanOutPacer(nowMillis: 0)
        let record = 100_000
        var backlog = 100  // about 9.5 MiB of 100 kB records
        var now: Int64 = 0
        var sent: [(millis: Int64, bytes: Int)] = []
        while backlog > 0 {
            switch pacer.next(nowMillis: now) {
            case .wait(let millis):
                #expect(millis > 0)
                now += millis
            case .send(let maxBytes):
                // At least one record; more while they fit.
                let count = min(backlog, max(1, maxBytes / record))
                backlog -= count
                pacer.sent(bytes: count * record, nowMillis: now)
                sent.append((now, count * record))
            }
        }
        let first = sent[0].bytes
        #expect(first <= 2 << 20)
        let after = sent.dropFirst().reduce(0) { $0 + $1.bytes }
        let seconds = Double(sent.last!.millis - sent[0].millis) / 1000
        let rate = Double(after) / seconds
        #expect(abs(rate - FanOutPacer.bytesPerSecond) / FanOutPacer.bytesPerSecond < 0.1, "rate \(rate)")
    }

    @Test("an event larger than the allowance leaves a debt that delays the next")
    func overdrawDelays() {
        var pacer = FanOutPacer(nowMillis: 0)
        let fresh = pacer.next(nowMillis: 0)
        #expect(fresh == .send(maxBytes: 2 << 20))
        pacer.sent(bytes: 4 << 20, nowMillis: 0)
        let inDebt = pacer.next(nowMillis: 0)
        let almostPaid = pacer.next(nowMillis: 999)
        #expect(inDebt == .wait(millis: 1001) && almostPaid == .wait(millis: 2))
        guard case .send(let maxBytes) = pacer.next(nowMillis: 1500) else {
            Issue.record("expected to send after the debt was paid")
            return
        }
        #expect(maxBytes == (2 << 20) / 2)
    }
}
