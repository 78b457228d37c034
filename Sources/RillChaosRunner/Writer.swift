import NIOCore
import RillChaos
import RillKinesis
import RillModel

/// One writer process of the workload: PutRecords batches of 10–50 and single PutRecords, each record a
/// unique id (`w<process>-<n>`) as its data and one of the writer's 16 partition keys (`WorkloadKeys`), so
/// per-key order can be checked across reshards; each call to a random node that is up, never retried.
/// Every record's outcome goes to the history.
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

    struct Tally: Sendable {
        var calls = 0
        var records = 0
        var acknowledged = 0
    }

    /// Writes until `stop` is set or `deadline` passes, whichever is first.
    func run(stop: StopFlag, deadline: ContinuousClock.Instant) async -> Tally {
        var generator = SplitMix64(seed: seed &+ UInt64(process) &* 0x9E37_79B9_7F4A_7C15)
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
            let ids = (next..<next + count).map { WorkloadKeys.id(process: process, n: $0) }
            next += count
            due += .milliseconds(Int(Double(count) * 1000 / recordsPerSecond))
            let result = await put(ids, batched: batched, at: port, caller: &caller)
            let events = WriteClassifier.events(
                for: ids,
                result: result,
                time: recorder.now,
                process: process,
                batched: batched
            )
            recorder.append(events)
            tally.calls += 1
            tally.records += count
            tally.acknowledged += events.count {
                if case .write(let write) = $0 { write.outcome == .ok } else { false }
            }
            if case .ok = result { continue }
            // A node that refuses or fails calls is not hammered in a tight loop.
            try? await Task.sleep(for: .milliseconds(Int.random(in: 10...50, using: &generator)))
        }
        await caller.close()
        return tally
    }

    private func put(
        _ ids: [String],
        batched: Bool,
        at port: APIAddress,
        caller: inout KinesisCaller
    ) async -> KinesisResult {
        if batched {
            return await caller.call(.putRecords, at: port, timeout: timeout) { writer in
                writer.key("StreamName")
                writer.string(stream)
                writer.key("Records")
                writer.beginArray()
                for id in ids {
                    writer.beginObject()
                    writer.key("Data")
                    writer.base64(Array(id.utf8))
                    writer.key("PartitionKey")
                    writer.string(WorkloadKeys.partitionKey(ofID: id))
                    writer.endObject()
                }
                writer.endArray()
            }
        }
        return await caller.call(.putRecord, at: port, timeout: timeout) { writer in
            writer.key("StreamName")
            writer.string(stream)
            writer.key("Data")
            writer.base64(Array(ids[0].utf8))
            writer.key("PartitionKey")
            writer.string(WorkloadKeys.partitionKey(ofID: ids[0]))
        }
    }
}
