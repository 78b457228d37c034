import Foundation
import NIOCore
import RillClient
import RillKinesis

/// The shell of `rill trigger`: holds a share of the group's leases, reads each leased shard, hands the records to
/// its `ShardTrigger` core, invokes the function with the batches the core picks, reports outcomes back, sends what
/// the core gives up on to the on-failure destination, and checkpoints what the core says is finished. Every call,
/// invocation and sleep is a child of one task group; only the loop touches the state.
///
/// Over 400 lines on purpose: `run` is one event loop whose local functions (lease round, open, poll, checkpoint)
/// share its state without locks; the decisions are in the pure cores named above, and what is left here is the
/// wiring of calls to events. The pooled connections are shared with the other group worker (`addPooledCall`).
struct TriggerRunner: Sendable {
    let client: ClientOptions
    let stream: String
    let group: String
    let worker: String
    /// The group's initial position when this trigger creates it (`--starting-position`).
    let startingPosition: ShardLineage.StartPosition
    let settings: ShardTrigger.Settings
    let functionTimeout: Duration
    let functionName: String
    let destination: FailureDestination?
    let invoker: Invoker
    let signals: SignalWatcher

    enum Event: Sendable {
        case round(Result<[KinesisClient.GroupLease], KinesisClient.CallError>, KinesisClient)
        case opened(shard: String, token: Int, Result<String, KinesisClient.CallError>, KinesisClient)
        case polled(
            shard: String,
            token: Int,
            started: Duration,
            Result<KinesisClient.RecordsPage, KinesisClient.CallError>,
            KinesisClient
        )
        case invoked(shard: String, token: Int, batch: Int, InvocationResult)
        case checkpointed(
            shard: String,
            token: Int,
            sequence: String?,
            Result<Void, KinesisClient.CallError>,
            KinesisClient
        )
        case roundDue
        case wake
        case stop
    }

    func run(group loopGroup: any EventLoopGroup) async throws {
        var control = try await client.connect(on: loopGroup)
        let description: KinesisClient.GroupDescription
        let streamARN: String
        do throws(KinesisClient.CallError) {
            description = try await control.createOrDescribeGroup(
                stream: stream,
                group: group,
                position: startingPosition
            )
            streamARN = try await control.streamARN(stream: stream)
        } catch {
            throw ToolFailure("rill trigger: cannot set up group \(group) on \(stream): \(error)")
        }
        log("worker \(worker) joins group \(group) on \(stream) (failover \(description.failoverMillis) ms)")
        let roundInterval = Duration.milliseconds(max(250, description.failoverMillis / 4))
        let region = client.region
        let account = streamARN.split(separator: ":").dropFirst(4).first.map(String.init) ?? "000000000000"
        let roleARN = "arn:aws:iam::\(account):role/rill-trigger"

        var shards: [String: TriggerShard] = [:]
        var idle: [KinesisClient] = [try await client.connect(on: loopGroup)]
        var roundRunning = false
        var stopping = false
        var invocations = 0
        var scheduledWake: Int64? = nil
        var nextRequest = 0
        var random = SystemRandomNumberGenerator()
        let clock = ContinuousClock()
        let origin = clock.now
        let stream = self.stream
        let groupName = self.group
        let worker = self.worker
        let options = self.client
        let invoker = self.invoker
        let timeout = self.functionTimeout
        let settings = self.settings
        let signals = self.signals

        try await withThrowingTaskGroup(of: Event.self) { tasks in
            /// Runs `call` on an idle connection (or a new one) after `delay`.
            func spawn(after delay: Duration = .zero, _ call: @escaping @Sendable (KinesisClient) async -> Event) {
                tasks.addPooledCall(
                    after: delay,
                    on: idle.popLast(),
                    connect: { try await options.connect(on: loopGroup) },
                    call
                )
            }
            func round() {
                roundRunning = true
                let held = shards.map { (shard: $0.key, token: $0.value.token) }
                spawn { connection in
                    do throws(KinesisClient.CallError) {
                        let leases = try await connection.leaseRound(
                            stream: stream,
                            group: groupName,
                            worker: worker,
                            held: held
                        )
                        return .round(.success(leases), connection)
                    } catch {
                        return .round(.failure(error), connection)
                    }
                }
            }
            func after(_ delay: Duration, _ event: Event) {
                tasks.addTask {
                    try await Task.sleep(for: delay)
                    return event
                }
            }
            func open(_ shardID: String, delay: Duration = .zero) {
                guard let shard = shards[shardID] else { return }
                shards[shardID]?.reading = true
                let token = shard.token
                let after = shard.lastRead ?? shard.startAfter
                let start = shard.start
                spawn(after: delay) { connection in
                    do throws(KinesisClient.CallError) {
                        let iterator = try await connection.shardIterator(
                            stream: stream,
                            shard: shardID,
                            position: start,
                            afterSequenceNumber: after
                        )
                        return .opened(shard: shardID, token: token, .success(iterator), connection)
                    } catch {
                        return .opened(shard: shardID, token: token, .failure(error), connection)
                    }
                }
            }
            func read(_ shardID: String) {
                guard !stopping, let shard = shards[shardID], !shard.reading, !shard.atEnd,
                    let iterator = shard.iterator, shard.core.wantsRecords
                else { return }
                let now = clock.now - origin
                let token = shard.token
                let limit = max(1, min(10_000, settings.batchSize * settings.parallelization * 2 - shard.core.backlog))
                shards[shardID]?.reading = true
                shards[shardID]?.requested = limit
                spawn(after: shard.nextPollAt > now ? shard.nextPollAt - now : .zero) { connection in
                    let started = clock.now - origin
                    do throws(KinesisClient.CallError) {
                        let page = try await connection.getRecords(iterator: iterator, limit: limit)
                        return .polled(shard: shardID, token: token, started: started, .success(page), connection)
                    } catch {
                        return .polled(shard: shardID, token: token, started: started, .failure(error), connection)
                    }
                }
            }
            func checkpoint(_ shardID: String) {
                guard let shard = shards[shardID], let due = shard.checkpointDue else { return }
                shards[shardID]?.checkpointing = true
                let token = shard.token
                spawn { connection in
                    do throws(KinesisClient.CallError) {
                        try await connection.checkpoint(
                            stream: stream,
                            group: groupName,
                            worker: worker,
                            shard: shardID,
                            token: token,
                            sequenceNumber: due
                        )
                        return .checkpointed(shard: shardID, token: token, sequence: due, .success(()), connection)
                    } catch {
                        return .checkpointed(shard: shardID, token: token, sequence: due, .failure(error), connection)
                    }
                }
            }
            /// Hands the discarded records to the destination before anything checkpoints past them.
            func discard(_ discards: [ShardTrigger.Discard], shard shardID: String) async throws {
                for discarded in discards {
                    guard let destination else {
                        log("\(shardID): \(discarded.records.count) records dropped (\(discarded.condition.rawValue))")
                        continue
                    }
                    let line = FailureDestination.record(
                        discarded,
                        shardID: shardID,
                        streamARN: streamARN,
                        region: region,
                        functionName: functionName,
                        nowMillis: Self.wallMillis()
                    )
                    var attempt = 0
                    while true {
                        do {
                            try await destination.deliver(line, shardID: shardID, using: control)
                            break
                        } catch {
                            attempt += 1
                            guard attempt < 5 else {
                                throw ToolFailure("rill trigger: the on-failure destination failed: \(error)")
                            }
                            try? await control.reconnect()
                            try await Task.sleep(for: Backoff().delay(attempt: attempt, using: &random))
                        }
                    }
                    log(
                        "\(shardID): \(discarded.records.count) records sent to the on-failure destination "
                            + "(\(discarded.condition.rawValue))"
                    )
                }
            }
            /// Starts every batch the shard's core picks now, and checkpoints what it finished.
            func dispatch(_ shardID: String) async throws {
                guard !stopping, var shard = shards[shardID] else { return }
                let now = Self.wallMillis()
                let (batches, discards) = shard.core.nextBatches(atMillis: now)
                shard.invoking += batches.count
                shards[shardID] = shard
                try await discard(discards, shard: shardID)
                for batch in batches {
                    invocations += 1
                    nextRequest += 1
                    let event = LambdaEvent.kinesis(
                        batch.records,
                        shardID: shardID,
                        streamARN: streamARN,
                        region: region,
                        roleARN: roleARN
                    )
                    let requestID = UUID().uuidString.lowercased()
                    let token = shard.token
                    tasks.addTask {
                        let result = await invoker.invoke(
                            event: event,
                            requestID: requestID,
                            timeout: timeout,
                            wallMillis: Self.wallMillis()
                        )
                        return .invoked(shard: shardID, token: token, batch: batch.id, result)
                    }
                }
                checkpoint(shardID)
                if let deadline = shard.core.nextDeadline(), scheduledWake.map({ deadline < $0 }) ?? true {
                    scheduledWake = deadline
                    after(.milliseconds(max(0, deadline - now)), .wake)
                }
            }
            func drop(_ shardID: String, _ why: String) {
                guard shards.removeValue(forKey: shardID) != nil else { return }
                log("\(shardID): \(why)")
            }

            round()
            tasks.addTask {
                _ = await signals.next()
                return .stop
            }
            loop: while let event = try await tasks.next() {
                if let connection = event.connection { idle.append(connection) }
                let now = clock.now - origin
                switch event {
                case .round(.success(let leases), _):
                    roundRunning = false
                    if !stopping { after(roundInterval, .roundDue) }
                    let changes = LeaseChanges(working: shards.mapValues(\.token), answer: leases)
                    for shardID in changes.lost { drop(shardID, "lease lost") }
                    guard !stopping else { continue }
                    for lease in changes.gained {
                        shards[lease.shardID] = TriggerShard(
                            lease: lease,
                            settings: settings,
                            initial: description.initialPosition
                        )
                        log("\(lease.shardID): lease taken (token \(lease.token), from \(lease.checkpoint ?? "start"))")
                        open(lease.shardID)
                    }
                case .round(.failure(let error), _):
                    roundRunning = false
                    log("lease round failed: \(error)")
                    if !stopping { after(.seconds(1), .roundDue) }
                case .roundDue:
                    if !roundRunning && !stopping { round() }
                case .opened(let shardID, let token, let result, _):
                    guard shards[shardID]?.token == token else { continue }
                    shards[shardID]?.reading = false
                    switch result {
                    case .success(let iterator):
                        shards[shardID]?.iterator = iterator
                        shards[shardID]?.readFailures = 0
                        read(shardID)
                    case .failure(let error):
                        shards[shardID]?.readFailures += 1
                        let failures = shards[shardID]?.readFailures ?? 1
                        if !error.isThrottling { log("\(shardID): GetShardIterator failed: \(error)") }
                        open(shardID, delay: Backoff(base: .milliseconds(250)).delay(attempt: failures, using: &random))
                    }
                case .polled(let shardID, let token, let started, let result, _):
                    guard var shard = shards[shardID], shard.token == token else { continue }
                    shard.reading = false
                    switch result {
                    case .success(let page):
                        let records = page.records.map {
                            ShardTrigger.Record(
                                sequenceNumber: $0.sequenceNumber,
                                partitionKey: $0.partitionKey,
                                data: $0.data,
                                arrivalMillis: Int64((($0.approximateArrivalTimestamp ?? 0) * 1000).rounded())
                            )
                        }
                        shard.core.offer(records, atMillis: Self.wallMillis())
                        if let last = records.last { shard.lastRead = last.sequenceNumber }
                        if let next = page.nextShardIterator {
                            shard.iterator = next
                            let behind =
                                !records.isEmpty
                                && (records.count >= shard.requested || (page.millisBehindLatest ?? 1) > 0)
                            shard.nextPollAt = shard.pacer.next(
                                after: behind ? .behind : .caughtUp,
                                callStarted: started,
                                random: &random
                            )
                        } else {
                            shard.iterator = nil
                            shard.atEnd = true
                        }
                        shards[shardID] = shard
                        try await dispatch(shardID)
                        read(shardID)
                    case .failure(let error) where error.code == "ExpiredIteratorException":
                        shards[shardID] = shard
                        open(shardID)
                    case .failure(let error):
                        if !error.isThrottling { log("\(shardID): GetRecords failed: \(error)") }
                        shard.nextPollAt = shard.pacer.next(after: .throttled, callStarted: started, random: &random)
                        shards[shardID] = shard
                        if error.isThrottling { read(shardID) } else { open(shardID, delay: shard.nextPollAt - now) }
                    }
                case .invoked(let shardID, let token, let batchID, let result):
                    invocations -= 1
                    guard var shard = shards[shardID], shard.token == token else {
                        if stopping && invocations == 0 { break loop }
                        continue
                    }
                    shard.invoking -= 1
                    let outcome: ShardTrigger.Outcome
                    switch result {
                    case .returned(let response):
                        outcome = settings.reportBatchItemFailures ? LambdaEvent.outcome(ofResult: response) : .success
                    case .failed(let reason):
                        log("\(shardID): invocation failed: \(reason)")
                        outcome = .failure
                    }
                    let discards = shard.core.completed(batchID, outcome)
                    shards[shardID] = shard
                    try await discard(discards, shard: shardID)
                    try await dispatch(shardID)
                    checkpoint(shardID)
                    read(shardID)
                case .checkpointed(let shardID, let token, let sequence, let result, _):
                    guard shards[shardID]?.token == token else { continue }
                    shards[shardID]?.checkpointing = false
                    switch result {
                    case .success where sequence == nil:
                        drop(shardID, "finished (SHARD_END)")
                        // Its children may be workable now.
                        if !roundRunning && !stopping { round() }
                    case .success:
                        shards[shardID]?.checkpointed = sequence
                        checkpoint(shardID)
                    case .failure(let error)
                    where error.code == "ResourceInUseException" || error.code == "ResourceNotFoundException":
                        drop(shardID, "lease lost: \(error)")
                    case .failure(let error):
                        log("\(shardID): checkpoint failed: \(error)")
                        after(.seconds(1), .wake)
                    }
                case .wake:
                    scheduledWake = nil
                    for shardID in shards.keys.sorted() {
                        try await dispatch(shardID)
                        checkpoint(shardID)
                    }
                case .stop:
                    log("stopping: finishing \(invocations) invocations, then releasing leases")
                    stopping = true
                }
                if stopping && invocations == 0 && !shards.values.contains(where: \.checkpointing) { break loop }
            }
            tasks.cancelAll()
        }
        await control.releaseLeases(stream: stream, group: groupName, worker: worker, shards.mapValues(\.token)) {
            shardID,
            error in log("\(shardID): release failed (it expires after the failover time): \(error)")
        }
        await invoker.shutdown()
        for connection in idle { await connection.close() }
        await control.close()
        log("stopped")
    }

    static func wallMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    private func log(_ message: String) { StandardStream.error("rill trigger: \(message)\n") }
}

extension TriggerRunner.Event: PooledCallEvent {
    var connection: KinesisClient? {
        switch self {
        case .round(_, let connection), .opened(_, _, _, let connection), .polled(_, _, _, _, let connection),
            .checkpointed(_, _, _, _, let connection):
            connection
        case .invoked, .roundDue, .wake, .stop: nil
        }
    }

    var failureCode: String? {
        switch self {
        case .round(.failure(let error), _), .opened(_, _, .failure(let error), _),
            .polled(_, _, _, .failure(let error), _), .checkpointed(_, _, _, .failure(let error), _):
            error.code
        default: nil
        }
    }

    func with(_ connection: KinesisClient) -> Self {
        switch self {
        case .round(let result, _): .round(result, connection)
        case .opened(let shard, let token, let result, _): .opened(shard: shard, token: token, result, connection)
        case .polled(let shard, let token, let started, let result, _):
            .polled(shard: shard, token: token, started: started, result, connection)
        case .checkpointed(let shard, let token, let sequence, let result, _):
            .checkpointed(shard: shard, token: token, sequence: sequence, result, connection)
        case .invoked, .roundDue, .wake, .stop: self
        }
    }
}
