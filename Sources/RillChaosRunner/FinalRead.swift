import NIOCore
import RillChaos
import RillModel

/// The read after healing: every shard from TRIM_HORIZON to its end, recorded as `final` read events.
///
/// Runs once writers have stopped and replicas agree, so "the end" is an empty page: the leader has no
/// committed record past it. Errors are retried (with a new iterator after the last record seen) until
/// `deadline`; a shard that cannot be read to its end is an unrecovered cluster, not a verdict.
struct FinalRead: Sendable {
    /// The history's process number for the final reader.
    static let process = 0

    let stream: String
    /// Whether `stream` is another stream than the one under test (a churn stream): its reads then name it.
    var isOtherStream = false
    let cluster: any ChaosCluster
    let recorder: Recorder
    let group: any EventLoopGroup

    /// Reads every shard; returns the records read per shard.
    func run(shards: [String], deadline: ContinuousClock.Instant) async throws(ChaosError) -> [String: Int] {
        var caller = KinesisCaller(group: group)
        var counts: [String: Int] = [:]
        for (index, shard) in shards.enumerated() {
            do {
                counts[shard] = try await read(shard, seed: UInt64(index), caller: &caller, deadline: deadline)
            } catch {
                await caller.close()
                throw error
            }
        }
        await caller.close()
        return counts
    }

    private func read(
        _ shard: String,
        seed: UInt64,
        caller: inout KinesisCaller,
        deadline: ContinuousClock.Instant
    ) async throws(ChaosError) -> Int {
        var cursor = ShardCursor(stream: stream, shard: shard)
        var generator = SplitMix64(seed: seed)
        var records = 0
        var recordedAny = false
        var lastError = "no attempt"
        while ContinuousClock.now < deadline {
            guard let port = await cluster.reachable().randomElement(using: &generator) else {
                lastError = "no node is up"
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            switch await cursor.read(limit: 10_000, at: port, caller: &caller, timeout: .seconds(30)) {
            case .page(let page):
                if !page.records.isEmpty {
                    record(page.records, shard: shard, from: page.from)
                    recordedAny = true
                    records += page.records.count
                }
                if page.records.isEmpty || page.closed {
                    // A shard nobody wrote to still gets its (empty) final read, so the history says it was read.
                    if !recordedAny { record([], shard: shard, from: "TRIM_HORIZON") }
                    return records
                }
            case .failed(let message):
                lastError = message
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        throw .unrecovered(
            "the final read of \(shard) did not reach its end (\(records) records read; last error: \(lastError))"
        )
    }

    private func record(_ records: [ReadRecord], shard: String, from: String?) {
        recorder.append([
            .read(
                ReadEvent(
                    time: recorder.now,
                    process: Self.process,
                    shard: shard,
                    isFinal: true,
                    records: records,
                    from: from,
                    stream: isOtherStream ? stream : nil
                )
            )
        ])
    }
}
