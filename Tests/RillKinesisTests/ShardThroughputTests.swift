import RillKinesis
import Testing

@Suite struct ShardThroughputTests {
    @Test("writes: 1,000 records a second, refilled over time")
    func recordRate() {
        var shard = ShardThroughput(nowMillis: 0)
        var admitted = 0
        for _ in 0..<1500 where shard.admitWrite(bytes: 10, nowMillis: 0) { admitted += 1 }
        #expect(admitted == 1000)
        let overLimit = shard.admitWrite(bytes: 10, nowMillis: 0)
        #expect(!overLimit)
        let refilled = shard.admitWrite(bytes: 10, nowMillis: 2)
        #expect(refilled)
    }

    @Test("writes: 1 MiB a second; a refused record costs nothing")
    func byteRate() {
        var shard = ShardThroughput(nowMillis: 0)
        let whole = shard.admitWrite(bytes: 1 << 20, nowMillis: 0)
        let oneMore = shard.admitWrite(bytes: 1, nowMillis: 0)
        let halfLater = shard.admitWrite(bytes: 1 << 19, nowMillis: 500)
        #expect(whole && !oneMore && halfLater)
    }

    @Test("reads: 5 calls a second, and a big read throttles until its bytes are paid off")
    func reads() {
        var shard = ShardThroughput(nowMillis: 0)
        var reads = 0
        for _ in 0..<7 where shard.admitRead(nowMillis: 0) { reads += 1 }
        #expect(reads == 5)
        var big = ShardThroughput(nowMillis: 0)
        let first = big.admitRead(nowMillis: 0)
        big.chargeRead(bytes: 10 << 20, nowMillis: 0)
        let tooSoon = big.admitRead(nowMillis: 3000)
        let paidOff = big.admitRead(nowMillis: 4100)
        #expect(first && !tooSoon && paidOff)
    }

    @Test("a clock that steps back refills nothing")
    func clockStepsBack() {
        var bucket = TokenBucket(capacity: 10, perSecond: 10, nowMillis: 1000)
        let all = bucket.take(10, nowMillis: 1000)
        let backwards = bucket.take(1, nowMillis: 0)
        let later = bucket.take(1, nowMillis: 1100)
        #expect(all && !backwards && later)
    }

    @Test("a client held at twice the limit gets the limit, second after second")
    func sustainedOverload() {
        var shard = ShardThroughput(nowMillis: 0)
        // 2,000 records a second offered in batches of 100 every 50 ms, for 10 s.
        var perSecond = [Int](repeating: 0, count: 10)
        for tick in 0..<200 {
            let now = Int64(tick * 50)
            let admitted = shard.admitWrites(sizes: Array(repeating: 100, count: 100), nowMillis: now)
            perSecond[tick / 20] += admitted.filter { $0 }.count
        }
        // The first second spends the full bucket and its refill; every later one exactly the refill.
        #expect(perSecond[0] <= 2000)
        for second in 1..<10 { #expect(perSecond[second] == 1000, "second \(second): \(perSecond[second])") }
    }

    @Test("a new leader of a shard written just before starts its writes empty: no burst in its first second")
    func takeoverAfterRecentWrites() {
        var shard = ShardThroughput.takingOver(nowMillis: 5000, newestRecordMillis: 3600)
        let atOnce = shard.admitWrite(bytes: 10, nowMillis: 5000)
        #expect(!atOnce)
        var admitted = 0
        for tick in 0...20 {
            let now = 5000 + Int64(tick * 50)
            admitted += shard.admitWrites(sizes: Array(repeating: 10, count: 200), nowMillis: now).filter { $0 }.count
        }
        // 1,000 in the second from 5000 to 6000: the refill and nothing more.
        #expect(admitted == 1000)
        // Reads start with their second's five calls: a reader resuming after a restart is not refused at once.
        var reads = ShardThroughput.takingOver(nowMillis: 5000, newestRecordMillis: 4999)
        var served = 0
        for _ in 0..<7 where reads.admitRead(nowMillis: 5000) { served += 1 }
        #expect(served == 5)
    }

    @Test(
        "a new leader of a shard never written, or idle for the takeover window, starts full",
        arguments: [nil, Int64(5000 - ShardThroughput.takeoverWindowMillis)]
    )
    func takeoverOfAnIdleShard(newest: Int64?) {
        var shard = ShardThroughput.takingOver(nowMillis: 5000, newestRecordMillis: newest)
        let admitted = shard.admitWrites(sizes: Array(repeating: 10, count: 1200), nowMillis: 5000)
        #expect(admitted.filter { $0 }.count == 1000)
    }

    @Test("a batch that must be appended whole is admitted whole or charges nothing")
    func allOrNothing() {
        var shard = ShardThroughput(nowMillis: 0)
        let first = shard.admitAll(sizes: Array(repeating: 10, count: 600), nowMillis: 0)
        let tooMany = shard.admitAll(sizes: Array(repeating: 10, count: 500), nowMillis: 0)
        let fits = shard.admitAll(sizes: Array(repeating: 10, count: 400), nowMillis: 0)
        #expect(first && !tooMany && fits)
    }

    @Test("per-record verdicts: a big record refused, a smaller later one still fits")
    func perRecordVerdicts() {
        var shard = ShardThroughput(nowMillis: 0)
        let verdicts = shard.admitWrites(sizes: [900_000, 200_000, 100_000], nowMillis: 0)
        #expect(verdicts == [true, false, true])
    }
}
