import NIOCore
import RillChaos
import RillKinesis
import RillModel

/// The catalog churn: small streams created, written to, resharded and deleted at seeded random times, from
/// the moment the node processes are launched (before `/ready`) until the run stops it after healing.
///
/// It exists because streams created in a cluster's first moments once opened as sole-voter groups on every
/// node. The churn keeps the catalog busy through formation and every fault; the placement check after
/// healing (`Checker.checkPlacement`) and the final read of its streams judge the result. Bounded: at most
/// `maxStreams` streams and `maxOperations` operations, paced by 0.3–1.5 s pauses of its own.
///
/// Catalog calls are retried (to a random reachable node each time) while the answer says "not now":
/// `LimitExceededException` (no members yet), `ServiceUnavailable`, `InternalFailureException`, or no reply.
/// `PutRecord` is never retried, as the writers' calls are not: each record is recorded in the history with
/// its stream (`WriteEvent.stream`), so the checker follows it to the final read like any other.
struct StreamChurn: Sendable {
    /// A churn stream as the churn knows it.
    struct Stream: Sendable {
        var name: String
        /// Doomed streams get no records and are deleted some time after they are created.
        var doomed: Bool
        var deleted = false
    }

    /// What the churn did, for the summary and the final read.
    struct Report: Sendable {
        var streams: [Stream] = []
        /// Calls that succeeded, by operation name.
        var succeeded: [String: Int] = [:]
        /// Calls refused for good (or given up after retrying), by operation and error.
        var refused: [String: Int] = [:]
        /// Answers retried, by error.
        var retried: [String: Int] = [:]
        var recordsAttempted = 0
        var recordsAcknowledged = 0
        /// Milliseconds since the run started when the first stream was created, if any was.
        var firstCreated: Double?

        /// Streams whose records must read back: created, never deleted, given records.
        var kept: [String] { streams.filter { !$0.doomed && !$0.deleted }.map(\.name) }
    }

    static let maxStreams = 6
    static let maxOperations = 60

    let prefix: String
    let seed: UInt64
    /// The history's process number for the churn's writes.
    let process: Int
    let cluster: any ChaosCluster
    let recorder: Recorder
    let group: any EventLoopGroup

    /// Runs until `stop`, `deadline` or the operation budget; returns what it did.
    func run(stop: StopFlag, deadline: ContinuousClock.Instant) async -> Report {
        var session = ChurnSession(churn: self, stop: stop, deadline: deadline)
        var operations = 0
        while !session.isOver, operations < Self.maxOperations {
            operations += 1
            await session.step()
            await session.pause()
        }
        await session.close()
        return session.report
    }
}

/// The churn's state while it runs: its generator, connections and report.
struct ChurnSession {
    let churn: StreamChurn
    let stop: StopFlag
    let deadline: ContinuousClock.Instant
    var generator: SplitMix64
    var caller: KinesisCaller
    var report = StreamChurn.Report()
    private var nextRecord = 0

    init(churn: StreamChurn, stop: StopFlag, deadline: ContinuousClock.Instant) {
        self.churn = churn
        self.stop = stop
        self.deadline = deadline
        // Apart from the writers' and the schedule's streams of numbers, so adding the churn moves neither.
        self.generator = SplitMix64(seed: churn.seed &* 0x9E37_79B9_7F4A_7C15 &+ 0xC4)
        self.caller = KinesisCaller(group: churn.group)
    }

    var isOver: Bool { stop.isSet || ContinuousClock.now >= deadline || Task.isCancelled }

    mutating func close() async { await caller.close() }

    /// A paced workload's own pause between operations.
    mutating func pause() async {
        try? await Task.sleep(for: .milliseconds(Int.random(in: 300...1500, using: &generator)))
    }

    /// One operation, chosen at random among those that make sense now.
    mutating func step() async {
        let live = report.streams.indices.filter { !report.streams[$0].deleted }
        if report.streams.count < StreamChurn.maxStreams, live.isEmpty || Int.random(in: 0..<10, using: &generator) < 3
        {
            await create()
            return
        }
        guard let index = live.randomElement(using: &generator) else { return }
        let roll = Int.random(in: 0..<20, using: &generator)
        let stream = report.streams[index]
        if stream.doomed, roll < 4 {
            if await delete(stream.name) { report.streams[index].deleted = true }
        } else if !stream.doomed, roll < 10 {
            await put(into: stream.name)
        } else {
            await reshard(stream.name)
        }
    }

    // MARK: - Operations

    private mutating func create() async {
        let name = "\(churn.prefix)-\(report.streams.count + 1)"
        let shards = Int.random(in: 1...3, using: &generator)
        // A third are doomed: resharded, then deleted, never written to (their records could not be read back).
        let doomed = Int.random(in: 0..<3, using: &generator) == 0
        let created = await retrying("CreateStream", done: [.resourceInUse]) { caller, address in
            await caller.call(.createStream, at: address, timeout: .seconds(10)) { writer in
                writer.key("StreamName")
                writer.string(name)
                writer.key("ShardCount")
                writer.int(shards)
            }
        }
        // Whether or not it was confirmed, the name is taken: a create that timed out may have happened.
        report.streams.append(StreamChurn.Stream(name: name, doomed: doomed || !created))
        if created, report.firstCreated == nil { report.firstCreated = churn.recorder.now }
    }

    private mutating func delete(_ name: String) async -> Bool {
        await retrying("DeleteStream", done: [.resourceNotFound]) { caller, address in
            await caller.call(.deleteStream, at: address, timeout: .seconds(10)) { writer in
                writer.key("StreamName")
                writer.string(name)
            }
        }
    }

    /// One to five PutRecord calls, each recorded as the writers record theirs.
    private mutating func put(into name: String) async {
        for _ in 0..<Int.random(in: 1...5, using: &generator) {
            guard let address = await churn.cluster.reachable().randomElement(using: &generator) else { return }
            let id = "c\(churn.process)-\(nextRecord)"
            nextRecord += 1
            let result = await caller.call(.putRecord, at: address, timeout: .seconds(3)) { writer in
                writer.key("StreamName")
                writer.string(name)
                writer.key("Data")
                writer.base64(Array(id.utf8))
                writer.key("PartitionKey")
                writer.string(id)
            }
            let events = WriteClassifier.events(
                for: [id],
                result: result,
                time: churn.recorder.now,
                process: churn.process,
                batched: false
            ).map { event -> HistoryEvent in
                guard case .write(var write) = event else { return event }
                write.stream = name
                if write.outcome == .ok { report.recordsAcknowledged += 1 }
                return .write(write)
            }
            report.recordsAttempted += 1
            churn.recorder.append(events)
            count("PutRecord", result)
        }
    }

    /// SplitShard, MergeShards or UpdateShardCount on the stream's open shards, whichever applies.
    private mutating func reshard(_ name: String) async {
        guard let open = await openShards(of: name), !open.isEmpty else { return }
        let choice = Int.random(in: 0..<3, using: &generator)
        let adjacent = ShardRanges.adjacentPairs(open)
        if choice == 0, open.count < 4, let shard = open.randomElement(using: &generator),
            let middle = ShardRanges.middle(of: shard)
        {
            _ = await retrying("SplitShard") { caller, address in
                await caller.call(.splitShard, at: address, timeout: .seconds(10)) { writer in
                    writer.key("StreamName")
                    writer.string(name)
                    writer.key("ShardToSplit")
                    writer.string(shard.id)
                    writer.key("NewStartingHashKey")
                    writer.string(middle)
                }
            }
        } else if choice == 1, let pair = adjacent.randomElement(using: &generator) {
            _ = await retrying("MergeShards") { caller, address in
                await caller.call(.mergeShards, at: address, timeout: .seconds(10)) { writer in
                    writer.key("StreamName")
                    writer.string(name)
                    writer.key("ShardToMerge")
                    writer.string(pair.0.id)
                    writer.key("AdjacentShardToMerge")
                    writer.string(pair.1.id)
                }
            }
        } else {
            // Kinesis allows half to double the open count; stay small.
            let target = open.count >= 3 ? max(1, (open.count + 1) / 2) : open.count * 2
            _ = await retrying("UpdateShardCount") { caller, address in
                await caller.call(.updateShardCount, at: address, timeout: .seconds(10)) { writer in
                    writer.key("StreamName")
                    writer.string(name)
                    writer.key("TargetShardCount")
                    writer.int(target)
                    writer.key("ScalingType")
                    writer.string("UNIFORM_SCALING")
                }
            }
        }
    }

    private mutating func openShards(of name: String) async -> [ShardRanges.Shard]? {
        guard let address = await churn.cluster.reachable().randomElement(using: &generator) else { return nil }
        let result = await caller.call(.listShards, at: address, timeout: .seconds(5)) { writer in
            writer.key("StreamName")
            writer.string(name)
        }
        guard case .ok(let reply) = result, let shards = reply.objects("Shards") else {
            count("ListShards", result)
            return nil
        }
        return ShardRanges.open(shards)
    }

    // MARK: - Retrying

    /// Calls until an answer that is not "not now", for up to 30 s (formation may take that long); true if
    /// the call succeeded or, on a retry, answered one of `done` (the earlier attempt had done it).
    private mutating func retrying(
        _ operation: String,
        done: Set<KinesisErrorCode> = [],
        _ call: (inout KinesisCaller, APIAddress) async -> KinesisResult
    ) async -> Bool {
        let giveUp = min(deadline, .now + .seconds(30))
        var attempts = 0
        while !stop.isSet, ContinuousClock.now < giveUp, !Task.isCancelled {
            guard let address = await churn.cluster.reachable().randomElement(using: &generator) else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            attempts += 1
            let result = await call(&caller, address)
            switch result {
            case .ok:
                report.succeeded[operation, default: 0] += 1
                return true
            case .error(let code, _) where attempts > 1 && done.contains { $0.rawValue == code }:
                report.succeeded[operation, default: 0] += 1
                return true
            case .error(let code, _) where Self.notNow.contains(code):
                report.retried[code, default: 0] += 1
            case .failed(let failure):
                report.retried[failure.label, default: 0] += 1
            case .error:
                count(operation, result)
                return false
            }
            try? await Task.sleep(for: .milliseconds(Int.random(in: 100...300, using: &generator)))
        }
        // Stopped by the run, or 30 s of "not now": either way the outcome is unknown.
        report.refused["\(operation) \(stop.isSet ? "stopped" : "gave up")", default: 0] += 1
        return false
    }

    /// Answers that mean "try again": the catalog has no members yet, or the node could not serve just now
    /// (a node still starting answers `ServiceUnavailable`, `StartingBackend`).
    private static let notNow: Set<String> = [
        KinesisErrorCode.limitExceeded.rawValue, KinesisErrorCode.serviceUnavailable.rawValue,
        KinesisErrorCode.internalFailure.rawValue, "InternalFailure",
    ]

    private mutating func count(_ operation: String, _ result: KinesisResult) {
        switch result {
        case .ok: report.succeeded[operation, default: 0] += 1
        case .error(let code, _): report.refused["\(operation) \(code)", default: 0] += 1
        case .failed(let failure): report.refused["\(operation) \(failure.label)", default: 0] += 1
        }
    }
}
