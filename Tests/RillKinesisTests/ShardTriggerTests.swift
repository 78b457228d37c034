import RillKinesis
import Testing

@Suite struct ShardTriggerTests {
    func records(_ count: Int, keys: Int = 5, from start: Int = 0, at millis: Int64 = 0) -> [ShardTrigger.Record] {
        (start..<start + count).map {
            ShardTrigger.Record(
                sequenceNumber: String(1_000 + $0),
                partitionKey: "k\($0 % keys)",
                data: [UInt8($0 & 0xFF)],
                arrivalMillis: millis
            )
        }
    }

    @Test("batches of batchSize in shard order; the checkpoint follows the finished prefix")
    func ordered() {
        var settings = ShardTrigger.Settings()
        settings.batchSize = 4
        var trigger = ShardTrigger(settings: settings)
        trigger.offer(records(10))
        let first = trigger.nextBatches(atMillis: 0).batches
        #expect(first.map { $0.records.map(\.sequenceNumber) } == [["1000", "1001", "1002", "1003"]])
        #expect(trigger.nextBatches(atMillis: 0).batches.isEmpty, "one batch per lane at a time")
        #expect(trigger.completed(first[0].id, .success).isEmpty)
        #expect(trigger.checkpoint == "1003")
        #expect(trigger.backlog == 6)
    }

    @Test("partial batch response: records before the first failure are done; the retry starts at it")
    func partial() {
        var settings = ShardTrigger.Settings()
        settings.batchSize = 5
        settings.reportBatchItemFailures = true
        var trigger = ShardTrigger(settings: settings)
        trigger.offer(records(5))
        let batch = trigger.nextBatches(atMillis: 0).batches[0]
        _ = trigger.completed(batch.id, .partial(failed: ["1003", "1002"]))
        #expect(trigger.checkpoint == "1001")
        let retry = trigger.nextBatches(atMillis: 0).batches[0]
        #expect(retry.records.map(\.sequenceNumber) == ["1002", "1003", "1004"])
        #expect(retry.attempt == 1)
        // An identifier that is not in the batch fails all of it.
        _ = trigger.completed(retry.id, .partial(failed: ["9999"]))
        #expect(trigger.nextBatches(atMillis: 0).batches[0].records.count == 3)
        #expect(
            LambdaEvent.outcome(ofResponse: Array(#"{"batchItemFailures":[{"itemIdentifier":"1003"}]}"#.utf8))
                == .partial(failed: ["1003"])
        )
        #expect(LambdaEvent.outcome(ofResponse: Array("null".utf8)) == .success)
        #expect(
            LambdaEvent.outcome(ofResponse: Array(#"{"batchItemFailures":[{"itemIdentifier":null}]}"#.utf8)) == .failure
        )
        #expect(LambdaEvent.outcome(ofResponse: Array("not json".utf8)) == .failure)
    }

    @Test(
        "bisect on error halves a failing batch down to the poison record, which retries then goes to the destination"
    )
    func bisect() {
        var settings = ShardTrigger.Settings()
        settings.batchSize = 8
        settings.bisectOnError = true
        settings.maxRetryAttempts = 2
        var trigger = ShardTrigger(settings: settings)
        trigger.offer(records(8))
        var discarded: [ShardTrigger.Discard] = []
        var invocations = 0
        while trigger.backlog > 0, invocations < 100 {
            let (batches, expired) = trigger.nextBatches(atMillis: 0)
            discarded += expired
            for batch in batches {
                invocations += 1
                let poisoned = batch.records.contains { $0.sequenceNumber == "1005" }
                discarded += trigger.completed(batch.id, poisoned ? .failure : .success)
            }
        }
        #expect(discarded.map { $0.records.map(\.sequenceNumber) } == [["1005"]])
        #expect(trigger.checkpoint == "1007")
    }

    @Test("without ReportBatchItemFailures a returned batchItemFailures is ignored: the batch succeeded")
    func partialIgnored() {
        var trigger = ShardTrigger(settings: ShardTrigger.Settings())
        trigger.offer(records(3))
        let batch = trigger.nextBatches(atMillis: 0).batches[0]
        #expect(trigger.completed(batch.id, .partial(failed: ["1001"])).isEmpty)
        #expect(trigger.checkpoint == "1002")
        #expect(trigger.isDrained)
    }

    @Test("batch window: fresh records wait for a full batch until the window closes; a full batch goes at once")
    func batchWindow() {
        var settings = ShardTrigger.Settings()
        settings.batchSize = 4
        settings.batchWindowMillis = 1_000
        var trigger = ShardTrigger(settings: settings)
        trigger.offer(records(3), atMillis: 10_000)
        #expect(trigger.nextBatches(atMillis: 10_500).batches.isEmpty)
        #expect(trigger.nextDeadline() == 11_000)
        let late = trigger.nextBatches(atMillis: 11_000).batches
        #expect(late.map(\.records.count) == [3])
        _ = trigger.completed(late[0].id, .success)
        trigger.offer(records(5, from: 3), atMillis: 12_000)
        #expect(trigger.nextBatches(atMillis: 12_000).batches.map(\.records.count) == [4])
    }

    @Test("read-ahead is bounded at two batches per lane; drained once everything is finished")
    func readAhead() {
        var settings = ShardTrigger.Settings()
        settings.batchSize = 2
        settings.parallelization = 2
        var trigger = ShardTrigger(settings: settings)
        trigger.offer(records(7))
        #expect(trigger.wantsRecords)
        trigger.offer(records(1, from: 7))
        #expect(!trigger.wantsRecords)
        var rounds = 0
        while !trigger.isDrained, rounds < 20 {
            rounds += 1
            for batch in trigger.nextBatches(atMillis: 0).batches { _ = trigger.completed(batch.id, .success) }
        }
        #expect(trigger.isDrained)
        #expect(trigger.checkpoint == "1007")
        #expect(trigger.nextDeadline() == nil)
    }

    @Test("records past their maximum age are given up on, not invoked")
    func maximumAge() {
        var settings = ShardTrigger.Settings()
        settings.maxRecordAgeMillis = 60_000
        var trigger = ShardTrigger(settings: settings)
        trigger.offer(records(3, at: 0))
        let (batches, discarded) = trigger.nextBatches(atMillis: 61_000)
        #expect(batches.isEmpty)
        #expect(discarded.first?.records.count == 3)
        #expect(trigger.checkpoint == "1002")
        trigger.offer(records(1, from: 3, at: 70_000))
        #expect(trigger.nextDeadline() == 130_001)
    }

    @Test("event: Lambda's Kinesis record fields")
    func event() {
        let body = String(
            decoding: LambdaEvent.kinesis(
                records(1),
                shardID: "shardId-000000000000",
                streamARN: "arn:aws:kinesis:us-east-1:000000000000:stream/lab",
                region: "us-east-1",
                roleARN: "arn:aws:iam::000000000000:role/rill-trigger"
            ),
            as: UTF8.self
        )
        #expect(
            body
                == #"{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"k0","sequenceNumber":"1000","data":"AA==","approximateArrivalTimestamp":0.000},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000000:1000","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::000000000000:role/rill-trigger","awsRegion":"us-east-1","eventSourceARN":"arn:aws:kinesis:us-east-1:000000000000:stream/lab"}]}"#
        )
    }

    /// Parallel lanes, random outcomes: a key is never in two batches at once, each key's first successful
    /// deliveries come in shard order, every record ends succeeded or given up on, and the checkpoint never passes
    /// an unfinished record.
    @Test("seeded: per-key order and no concurrent batches of a key under parallelization", arguments: 0..<100)
    func parallel(seed: Int) {
        var random = SplitMix(seed: UInt64(seed))
        var settings = ShardTrigger.Settings()
        settings.parallelization = 1 + random.below(10)
        settings.batchSize = 1 + random.below(20)
        settings.bisectOnError = random.below(2) == 0
        settings.reportBatchItemFailures = random.below(2) == 0
        settings.maxRetryAttempts = random.below(2) == 0 ? nil : random.below(4)
        var trigger = ShardTrigger(settings: settings)
        var offered = 0
        var inFlight: [ShardTrigger.Batch] = []
        var delivered: [String: [Int]] = [:]
        var finished = Set<String>()
        for _ in 0..<400 {
            if offered < 300, random.below(3) == 0 {
                let count = random.below(30)
                trigger.offer(records(count, keys: 7, from: offered))
                offered += count
            }
            let (batches, discarded) = trigger.nextBatches(atMillis: 0)
            for d in discarded { for r in d.records { finished.insert(r.sequenceNumber) } }
            for batch in batches {
                let keys = Set(batch.records.map(\.partitionKey))
                for other in inFlight {
                    #expect(
                        keys.isDisjoint(with: other.records.map(\.partitionKey)),
                        "seed \(seed): a key in two batches"
                    )
                }
                inFlight.append(batch)
            }
            guard !inFlight.isEmpty else { continue }
            let batch = inFlight.remove(at: random.below(inFlight.count))
            let roll = random.below(10)
            let outcome: ShardTrigger.Outcome =
                roll < 6
                ? .success
                : roll < 8
                    ? .failure : .partial(failed: [batch.records[random.below(batch.records.count)].sequenceNumber])
            var succeeded = batch.records
            if case .failure = outcome { succeeded = [] }
            if case .partial(let failed) = outcome, settings.reportBatchItemFailures {
                succeeded = Array(batch.records.prefix { $0.sequenceNumber != failed[0] })
            }
            for record in succeeded where !finished.contains(record.sequenceNumber) {
                delivered[record.partitionKey, default: []].append(Int(record.sequenceNumber)!)
                finished.insert(record.sequenceNumber)
            }
            for d in trigger.completed(batch.id, outcome) { for r in d.records { finished.insert(r.sequenceNumber) } }
            if let checkpoint = trigger.checkpoint {
                for n in 1_000...Int(checkpoint)! {
                    #expect(
                        finished.contains(String(n)),
                        "seed \(seed): checkpoint \(checkpoint) passed unfinished \(n)"
                    )
                }
            }
        }
        for (key, sequence) in delivered {
            #expect(sequence == sequence.sorted(), "seed \(seed): key \(key) out of order")
        }
    }
}
