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
}
