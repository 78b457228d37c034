import NIOCore
import RillChaos
import RillKinesis
import RillModel

/// One writer process of the workload: PutRecords batches of 10–50 and single PutRecords, each record a
/// unique id (`w<process>-<n>`) as its data and one of the writer's 16 partition keys (`WorkloadKeys`), so
/// per-key order can be checked across reshards; each call to a random node that is up. Never retried unless
/// `retrying` says so (`RetryingWriters`); every attempt's outcome, per record, goes to the history.
struct Writer: Sendable {
    let process: Int
    let seed: UInt64
    let stream: String
    let cluster: any ChaosCluster
    let recorder: Recorder
    let group: any EventLoopGroup
    /// This writer's share of the run's write rate, in records per second.
    let recordsPerSecond: Double
    /// How long a call may take; past it the outcome is unknown.
    let timeout: Duration
    /// Whether and how records whose outcome is unknown are sent again.
    var retrying: RetryingWriters?
    /// How long a writer still retries records it does not know the fate of once told to stop: the cluster is
    /// healed by then, so this settles them before the final reads rather than leaving them indeterminate.
    var retryGrace: Duration = .seconds(20)

    struct Tally: Sendable {
        var calls = 0
        var records = 0
        var acknowledged = 0
    }

    /// One record of a call: its id (also its data) and its number `n`, which is its producer sequence too.
    private struct Record {
        var id: String
        var n: Int
    }

    /// Definite failures a later attempt can get past: a node that could not be reached (nothing was sent, so
    /// nothing was learned about the earlier attempt), throttling, and a restarted node that has not loaded its
    /// metadata yet and says the stream does not exist (docs/chaos.md, "Known gaps").
    static let passingRefusals: Set<String> = [
        HTTPFailure.notConnected("").label, "ProvisionedThroughputExceededException", "ResourceNotFoundException",
    ]

    /// The idempotent-producer id: one per writer and stream, so a retry names the record's first attempt.
    var producerID: String { "\(stream).w\(process)" }

    /// The choices of writer `process` (nodes, batch sizes, pauses) for a run's `seed`, independent of every
    /// other writer's.
    ///
    /// Why hashed: the seed used to be `seed + process × 0x9E3779B97F4A7C15`, SplitMix64's own increment, so
    /// writer p's draws were writer 0's shifted by p. The writers then tended to pick the same node at the
    /// same moment (three sent 47 records at once in one run), and a fault on one node held them all, which
    /// made the "all shards" outages of a cut node its writers' 3 s timeout.
    static func generator(seed: UInt64, process: Int) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed ^ (UInt64(process) &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }

    /// Writes until `stop` is set or `deadline` passes, whichever is first.
    func run(stop: StopFlag, deadline: ContinuousClock.Instant) async -> Tally {
        var generator = Self.generator(seed: seed, process: process)
        var caller = KinesisCaller(group: group)
        var tally = Tally()
        var next = 0
        var due = ContinuousClock.now
        while !stop.isSet, ContinuousClock.now < deadline, !Task.isCancelled {
            // Paced, not bursty: a writer held up by a fault does not make up for lost time afterwards.
            if due > .now { try? await Task.sleep(until: due) }
            due = max(due, .now)
            let ports = await cluster.reachable()
            guard let port = ports.randomElement(using: &generator) else {
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            let batched = Int.random(in: 0..<5, using: &generator) > 0
            let count = batched ? Int.random(in: 10...50, using: &generator) : 1
            let records = (next..<next + count).map { Record(id: WorkloadKeys.id(process: process, n: $0), n: $0) }
            next += count
            due += .milliseconds(Int(Double(count) * 1000 / recordsPerSecond))
            tally.records += count
            let unsettled = await attempt(
                records,
                number: 1,
                batched: batched,
                at: port,
                caller: &caller,
                tally: &tally
            )
            if retrying != nil, !unsettled.isEmpty {
                await retry(
                    unsettled,
                    batched: batched,
                    stop: stop,
                    deadline: deadline,
                    generator: &generator,
                    caller: &caller,
                    tally: &tally
                )
                continue
            }
            if unsettled.isEmpty { continue }
            // A node that refuses or fails calls is not hammered in a tight loop.
            try? await Task.sleep(for: .milliseconds(Int.random(in: 10...50, using: &generator)))
        }
        await caller.close()
        return tally
    }

    /// Sends `records` again, each with its first attempt's number, through a random reachable node with
    /// growing pauses, until none is left unsettled or retrying must end: `deadline`, cancellation, or
    /// `retryGrace` after `stop` was seen; what is still unsettled then stays as its last attempt left it.
    private func retry(
        _ records: [Record],
        batched: Bool,
        stop: StopFlag,
        deadline: ContinuousClock.Instant,
        generator: inout SplitMix64,
        caller: inout KinesisCaller,
        tally: inout Tally
    ) async {
        var unsettled = records
        var number = 1
        var stoppedAt: ContinuousClock.Instant?
        while !unsettled.isEmpty, !Task.isCancelled {
            let now = ContinuousClock.now
            if stop.isSet, stoppedAt == nil { stoppedAt = now }
            if now >= deadline || stoppedAt.map({ now >= $0 + retryGrace }) == true { break }
            // 20 ms, 40 ms, ... up to 1 s, with jitter: quick after one timeout, gentle on a cluster in trouble.
            let pause = min(1000, 20 << min(number - 1, 6)) + Int.random(in: 0...20, using: &generator)
            try? await Task.sleep(for: .milliseconds(pause))
            guard let port = await cluster.reachable().randomElement(using: &generator) else { continue }
            number += 1
            unsettled = await attempt(
                unsettled,
                number: number,
                batched: batched,
                at: port,
                caller: &caller,
                tally: &tally
            )
        }
    }

    /// One call for `records`, its events recorded; returns the records a retrying writer would send again:
    /// those whose outcome is unknown, and those refused for a passing reason after an attempt whose outcome
    /// was unknown.
    private func attempt(
        _ records: [Record],
        number: Int,
        batched: Bool,
        at port: APIAddress,
        caller: inout KinesisCaller,
        tally: inout Tally
    ) async -> [Record] {
        let result = await put(records, batched: batched, at: port, caller: &caller)
        var events = WriteClassifier.events(
            for: records.map(\.id),
            result: result,
            time: recorder.now,
            process: process,
            batched: batched
        )
        if let retrying {
            for offset in events.indices {
                guard case .write(var write) = events[offset] else { continue }
                write.attempt = number
                if retrying == .idempotent {
                    write.producer = producerID
                    write.producerSequence = UInt64(records[offset].n)
                }
                events[offset] = .write(write)
            }
        }
        recorder.append(events)
        tally.calls += 1
        var unsettled: [Record] = []
        for (record, event) in zip(records, events) {
            guard case .write(let write) = event else { continue }
            switch write.outcome {
            case .ok: tally.acknowledged += 1
            case .info: unsettled.append(record)
            case .fail:
                // Refused for certain, so this attempt stored nothing; but an earlier attempt may have. A refusal
                // that passes is tried again; one a retry cannot fix settles it.
                if number > 1, let error = write.error, Self.passingRefusals.contains(error) {
                    unsettled.append(record)
                }
            }
        }
        return unsettled
    }

    private func put(
        _ records: [Record],
        batched: Bool,
        at port: APIAddress,
        caller: inout KinesisCaller
    ) async -> KinesisResult {
        var headers: [(name: String, value: String)] = []
        if retrying == .idempotent {
            headers = [
                (ProducerStamp.idHeader, producerID),
                (ProducerStamp.sequenceHeader, ProducerStamp.headerValue(records.map { UInt64($0.n) })),
            ]
        }
        if batched {
            return await caller.call(.putRecords, at: port, timeout: timeout, headers: headers) { writer in
                writer.key("StreamName")
                writer.string(stream)
                writer.key("Records")
                writer.beginArray()
                for record in records {
                    writer.beginObject()
                    writer.key("Data")
                    writer.base64(Array(record.id.utf8))
                    writer.key("PartitionKey")
                    writer.string(WorkloadKeys.partitionKey(ofID: record.id))
                    writer.endObject()
                }
                writer.endArray()
            }
        }
        return await caller.call(.putRecord, at: port, timeout: timeout, headers: headers) { writer in
            writer.key("StreamName")
            writer.string(stream)
            writer.key("Data")
            writer.base64(Array(records[0].id.utf8))
            writer.key("PartitionKey")
            writer.string(WorkloadKeys.partitionKey(ofID: records[0].id))
        }
    }
}
