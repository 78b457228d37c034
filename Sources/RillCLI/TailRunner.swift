import NIOCore
import RillClient
import RillKinesis

/// The shell around `ShardLineage` and `PollPacer` (and, with a group, `LeaseChanges` and `CheckpointSlot`): finds
/// the shards to read, opens iterators, polls each shard and prints in one loop. Every call and sleep is a child of
/// one task group; only the loop touches the state.
///
/// Without a group, the shards come from ListShards and the lineage, all of them read from `start`. With one
/// (`--group`), the process is a worker of that consumer group: lease rounds decide which shards it reads, each from
/// its checkpoint (or `start` when it has none), and each shard is checkpointed with the lease's token once its
/// records are written to standard output; a closed shard is checkpointed `SHARD_END` once printed to its end, and
/// the group hands out its children after that. Stopping (a signal, `--max-records`, `--idle-exit`) writes the last
/// checkpoints, then releases the leases.
///
/// Over 400 lines on purpose: `run` is one event loop whose local functions (lease round, open, poll, checkpoint)
/// share its state without locks; the decisions are in the pure cores named above, and what is left here is the
/// wiring of calls to events. The pooled connections are shared with the other group worker (`addPooledCall`).
struct TailRunner: Sendable {
    /// A consumer group to read as a worker of.
    struct Group: Sendable {
        var name: String
        var worker: String
        var signals: SignalWatcher
    }

    let client: ClientOptions
    let stream: String
    let start: ShardLineage.StartPosition
    let json: Bool
    let maxRecords: Int?
    let idleExit: Duration?
    let deaggregate: Bool
    let group: Group?

    fileprivate enum Event: Sendable {
        case listed(Result<[ShardLineage.Shard], KinesisClient.CallError>, KinesisClient)
        case round(Result<[KinesisClient.GroupLease], KinesisClient.CallError>, KinesisClient)
        case opened(shard: String, token: Int, Result<String, KinesisClient.CallError>, KinesisClient)
        case polled(
            shard: String,
            token: Int,
            started: Duration,
            Result<KinesisClient.RecordsPage, KinesisClient.CallError>,
            KinesisClient
        )
        case checkpointed(shard: String, token: Int, Result<Void, KinesisClient.CallError>, KinesisClient)
        case roundDue
        case checkpointDue(shard: String)
        case idleCheck
        case stop
    }

    /// One shard being read.
    private struct Cursor {
        /// Where the shard started: an expired iterator with nothing printed yet reopens here.
        var start: ShardLineage.StartPosition
        /// The lease's token with a group (0 without): events of an earlier tenure carry another.
        var token = 0
        var iterator: String?
        /// The last sequence number printed from this shard: where an expired iterator resumes.
        var lastSequence: String?
        var pacer = PollPacer()
        var failures = 0
        /// With a group: what is printed against what the group has.
        var checkpoint: CheckpointSlot?
        /// Failed Checkpoint calls in a row.
        var checkpointFailures = 0
    }

    /// Failed Checkpoint calls in a row after which a stopping tail gives a shard up (the next reader of the group
    /// prints its last records again).
    private static let stopCheckpointAttempts = 5

    func run(group loopGroup: any EventLoopGroup) async throws {
        let format = TailFormat(json: json, deaggregate: deaggregate)
        var lineage = ShardLineage(start: start)
        var cursors: [String: Cursor] = [:]
        var idle: [KinesisClient] = [try await client.connect(on: loopGroup)]
        var printed = 0
        let clock = ContinuousClock()
        let origin = clock.now
        var lastRecordAt = Duration.zero
        var random = SystemRandomNumberGenerator()
        let stream = self.stream
        let options = self.client
        let start = self.start
        let membership = self.group
        /// With a group: the leases held (shard → token), for the release at the end.
        var held: [String: Int] = [:]
        var roundInterval = Duration.seconds(1)
        if let membership {
            do throws(KinesisClient.CallError) {
                let description = try await idle[0].createOrDescribeGroup(
                    stream: stream,
                    group: membership.name,
                    position: start
                )
                roundInterval = .milliseconds(max(250, description.failoverMillis / 4))
            } catch {
                for connection in idle { await connection.close() }
                throw ToolFailure("rill tail: cannot join group \(membership.name) on \(stream): \(error)")
            }
            log("worker \(membership.worker) joins group \(membership.name) on \(stream)")
        }

        var failure: (any Error)?
        do {
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
                func after(_ delay: Duration, _ event: Event) {
                    tasks.addTask {
                        try await Task.sleep(for: delay)
                        return event
                    }
                }
                func list(after delay: Duration = .zero) {
                    spawn(after: delay) { connection in
                        do throws(KinesisClient.CallError) {
                            return .listed(.success(try await connection.shardLineage(stream: stream)), connection)
                        } catch {
                            return .listed(.failure(error), connection)
                        }
                    }
                }
                var roundRunning = false
                func round() {
                    guard let membership else { return }
                    roundRunning = true
                    let leases = held.map { (shard: $0.key, token: $0.value) }
                    spawn { connection in
                        do throws(KinesisClient.CallError) {
                            let answer = try await connection.leaseRound(
                                stream: stream,
                                group: membership.name,
                                worker: membership.worker,
                                held: leases
                            )
                            return .round(.success(answer), connection)
                        } catch {
                            return .round(.failure(error), connection)
                        }
                    }
                }
                func open(_ shard: String, delay: Duration = .zero) {
                    guard let cursor = cursors[shard] else { return }
                    let token = cursor.token
                    let position = cursor.start
                    let sequence = cursor.lastSequence
                    spawn(after: delay) { connection in
                        do throws(KinesisClient.CallError) {
                            let iterator = try await connection.shardIterator(
                                stream: stream,
                                shard: shard,
                                position: position,
                                afterSequenceNumber: sequence
                            )
                            return .opened(shard: shard, token: token, .success(iterator), connection)
                        } catch {
                            return .opened(shard: shard, token: token, .failure(error), connection)
                        }
                    }
                }
                func poll(_ shard: String, at instant: Duration) {
                    guard let cursor = cursors[shard], let iterator = cursor.iterator else { return }
                    let token = cursor.token
                    let now = clock.now - origin
                    spawn(after: instant > now ? instant - now : .zero) { connection in
                        let started = clock.now - origin
                        do throws(KinesisClient.CallError) {
                            let page = try await connection.getRecords(iterator: iterator)
                            return .polled(shard: shard, token: token, started: started, .success(page), connection)
                        } catch {
                            return .polled(shard: shard, token: token, started: started, .failure(error), connection)
                        }
                    }
                }
                /// Sends the shard's due checkpoint, if any and none is in flight.
                func checkpoint(_ shard: String) {
                    guard let membership, var cursor = cursors[shard], let mark = cursor.checkpoint?.take() else {
                        return
                    }
                    cursors[shard] = cursor
                    let token = cursor.token
                    spawn { connection in
                        do throws(KinesisClient.CallError) {
                            var sequence: String?
                            if case .sequence(let number) = mark { sequence = number }
                            try await connection.checkpoint(
                                stream: stream,
                                group: membership.name,
                                worker: membership.worker,
                                shard: shard,
                                token: token,
                                sequenceNumber: sequence
                            )
                            return .checkpointed(shard: shard, token: token, .success(()), connection)
                        } catch {
                            return .checkpointed(shard: shard, token: token, .failure(error), connection)
                        }
                    }
                }
                func begin(_ reads: [ShardLineage.Read]) {
                    for read in reads {
                        cursors[read.shardID] = Cursor(start: read.from)
                        open(read.shardID)
                    }
                }
                func drop(_ shard: String, _ why: String) {
                    cursors[shard] = nil
                    held[shard] = nil
                    log("\(shard): \(why)")
                }
                var stopping = false
                /// With a group, stopping lets the checkpoints in flight finish and sends the due ones; without, the
                /// loop ends at once.
                func stop() -> Bool {
                    guard membership != nil else { return true }
                    stopping = true
                    for shard in cursors.keys.sorted() { checkpoint(shard) }
                    return false
                }

                if membership == nil {
                    list()
                } else {
                    round()
                    if let signals = membership?.signals {
                        tasks.addTask {
                            _ = await signals.next()
                            return .stop
                        }
                    }
                }
                if let idleExit {
                    after(idleExit, .idleCheck)
                }
                var listedOnce = false
                loop: while true {
                    // A stopping worker ends once the round in flight has answered (its leases are released) and
                    // every shard's checkpoint is written.
                    if stopping && !roundRunning && cursors.values.allSatisfy({ $0.checkpoint?.isSettled ?? true }) {
                        break
                    }
                    guard let event = try await tasks.next() else { break }
                    if let connection = event.connection { idle.append(connection) }
                    let now = clock.now - origin
                    switch event {
                    case .listed(.success(let shards), _):
                        listedOnce = true
                        begin(lineage.listed(shards))
                    case .listed(.failure(let error), _):
                        // The stream must exist to start with; later, a failed re-list is retried.
                        guard listedOnce || error.isThrottling else {
                            throw ToolFailure("rill tail: ListShards failed: \(error)")
                        }
                        list(after: .seconds(1))
                    case .round(.success(let leases), _):
                        roundRunning = false
                        if !stopping { after(roundInterval, .roundDue) }
                        let changes = LeaseChanges(working: cursors.mapValues(\.token), answer: leases)
                        for shard in changes.lost { drop(shard, "lease lost") }
                        held = Dictionary(
                            leases.map { ($0.shardID, $0.token) },
                            uniquingKeysWith: { first, _ in first }
                        )
                        guard !stopping else { continue }
                        for lease in changes.gained {
                            log(
                                "\(lease.shardID): lease taken (token \(lease.token), from \(lease.checkpoint ?? "start"))"
                            )
                            cursors[lease.shardID] = Cursor(
                                start: start,
                                token: lease.token,
                                lastSequence: lease.checkpoint,
                                checkpoint: CheckpointSlot(checkpoint: lease.checkpoint)
                            )
                            open(lease.shardID)
                        }
                    case .round(.failure(let error), _):
                        roundRunning = false
                        log("lease round failed: \(error)")
                        if !stopping { after(.seconds(1), .roundDue) }
                    case .roundDue:
                        if !roundRunning && !stopping { round() }
                    case .opened(let shard, let token, .success(let iterator), _):
                        guard cursors[shard]?.token == token, !stopping else { continue }
                        cursors[shard]?.iterator = iterator
                        cursors[shard]?.failures = 0
                        poll(shard, at: now)
                    case .opened(let shard, let token, .failure(let error), _):
                        guard var cursor = cursors[shard], cursor.token == token, !stopping else { continue }
                        guard error.isThrottling else {
                            throw ToolFailure("rill tail: GetShardIterator for \(shard) failed: \(error)")
                        }
                        cursor.failures += 1
                        cursors[shard] = cursor
                        open(
                            shard,
                            delay: Backoff(base: .milliseconds(250)).delay(attempt: cursor.failures, using: &random)
                        )
                    case .polled(let shard, let token, let started, .success(let page), _):
                        // A stopping worker prints nothing more: what it has not checkpointed, the group hands on.
                        guard var cursor = cursors[shard], cursor.token == token, !stopping else { continue }
                        var output: [UInt8] = []
                        var whole = true
                        for record in page.records {
                            // With a group, a KPL aggregate is printed whole even past --max-records: checkpoints
                            // name whole records, so a part of one would be printed again by the next reader.
                            guard maxRecords.map({ printed < $0 }) ?? true else {
                                whole = false
                                break
                            }
                            for line in format.lines(of: record, shardID: shard) {
                                guard membership != nil || maxRecords.map({ printed < $0 }) ?? true else { break }
                                format.render(line, into: &output)
                                printed += 1
                            }
                            cursor.lastSequence = record.sequenceNumber
                        }
                        if !page.records.isEmpty { lastRecordAt = now }
                        if !output.isEmpty && !StandardStream.write(output, to: 1) {
                            // Standard output is gone (`head` exited): what was not written is not checkpointed.
                            cursors[shard] = cursor
                            if stop() { break loop }
                            continue
                        }
                        if let sequence = cursor.lastSequence { cursor.checkpoint?.handled(through: sequence) }
                        let next = page.nextShardIterator
                        if next == nil && whole { cursor.checkpoint?.finished() }
                        cursor.iterator = next
                        cursors[shard] = cursor
                        checkpoint(shard)
                        if let maxRecords, printed >= maxRecords {
                            if stop() { break loop }
                            continue
                        }
                        guard next != nil else {
                            // With a group, the SHARD_END checkpoint's answer leads to the children.
                            guard membership == nil else { continue }
                            cursors[shard] = nil
                            let reads = lineage.finished(shard, children: page.childShards)
                            begin(reads)
                            // No children named: a fresh list finds them (and any other new shard).
                            if page.childShards.isEmpty { list() }
                            continue
                        }
                        let behind = !page.records.isEmpty && (page.millisBehindLatest ?? 1) > 0
                        let at = cursor.pacer.next(
                            after: behind ? .behind : .caughtUp,
                            callStarted: started,
                            random: &random
                        )
                        cursors[shard]?.pacer = cursor.pacer
                        poll(shard, at: at)
                    case .polled(let shard, let token, let started, .failure(let error), _):
                        guard var cursor = cursors[shard], cursor.token == token, !stopping else { continue }
                        if error.code == "ExpiredIteratorException" {
                            open(shard)
                        } else if error.isThrottling {
                            let at = cursor.pacer.next(after: .throttled, callStarted: started, random: &random)
                            cursors[shard] = cursor
                            poll(shard, at: at)
                        } else {
                            throw ToolFailure("rill tail: GetRecords on \(shard) failed: \(error)")
                        }
                    case .checkpointed(let shard, let token, .success(_), _):
                        guard var cursor = cursors[shard], cursor.token == token else { continue }
                        cursor.checkpoint?.succeeded()
                        cursor.checkpointFailures = 0
                        cursors[shard] = cursor
                        if cursor.checkpoint?.isFinished == true {
                            drop(shard, "finished (SHARD_END)")
                            // Its children may be workable now.
                            if !roundRunning && !stopping { round() }
                        } else {
                            checkpoint(shard)
                        }
                    case .checkpointed(let shard, let token, .failure(let error), _):
                        guard var cursor = cursors[shard], cursor.token == token else { continue }
                        if error.code == "ResourceInUseException" || error.code == "ResourceNotFoundException" {
                            drop(shard, "lease lost: \(error)")
                            continue
                        }
                        cursor.checkpoint?.failed()
                        cursor.checkpointFailures += 1
                        cursors[shard] = cursor
                        log("\(shard): checkpoint failed (attempt \(cursor.checkpointFailures)): \(error)")
                        if stopping && cursor.checkpointFailures >= Self.stopCheckpointAttempts {
                            drop(shard, "not checkpointed: the group's next reader prints its last records again")
                            continue
                        }
                        after(
                            Backoff(base: .milliseconds(250)).delay(attempt: cursor.checkpointFailures, using: &random),
                            .checkpointDue(shard: shard)
                        )
                    case .checkpointDue(let shard):
                        checkpoint(shard)
                    case .idleCheck:
                        guard let idleExit, !stopping else { continue }
                        if now - lastRecordAt >= idleExit {
                            if stop() { break loop }
                            continue
                        }
                        after(idleExit - (now - lastRecordAt), .idleCheck)
                    case .stop:
                        log("stopping: checkpointing what is printed, then releasing leases")
                        _ = stop()
                    }
                }
                tasks.cancelAll()
            }
        } catch {
            failure = error
        }
        if let membership, !held.isEmpty {
            await release(held, membership: membership, idle: &idle, group: loopGroup)
        }
        for connection in idle { await connection.close() }
        if let failure { throw failure }
    }

    /// Releases the leases, so the group's other workers take the shards at once rather than after the failover
    /// time.
    private func release(
        _ held: [String: Int],
        membership: Group,
        idle: inout [KinesisClient],
        group loopGroup: any EventLoopGroup
    ) async {
        let connection: KinesisClient
        if let pooled = idle.popLast() {
            connection = pooled
        } else {
            do {
                connection = try await client.connect(on: loopGroup)
            } catch {
                log("cannot release the leases (they expire after the failover time): \(error)")
                return
            }
        }
        await connection.releaseLeases(stream: stream, group: membership.name, worker: membership.worker, held) {
            shard,
            error in log("\(shard): release failed (it expires after the failover time): \(error)")
        }
        idle.append(connection)
    }

    private func log(_ message: String) { StandardStream.error("rill tail: \(message)\n") }
}

extension TailRunner.Event: PooledCallEvent {
    var connection: KinesisClient? {
        switch self {
        case .listed(_, let connection), .round(_, let connection), .opened(_, _, _, let connection),
            .polled(_, _, _, _, let connection), .checkpointed(_, _, _, let connection):
            connection
        case .roundDue, .checkpointDue, .idleCheck, .stop: nil
        }
    }

    var failureCode: String? {
        switch self {
        case .listed(.failure(let error), _), .round(.failure(let error), _), .opened(_, _, .failure(let error), _),
            .polled(_, _, _, .failure(let error), _), .checkpointed(_, _, .failure(let error), _):
            error.code
        default: nil
        }
    }

    func with(_ connection: KinesisClient) -> Self {
        switch self {
        case .listed(let result, _): .listed(result, connection)
        case .round(let result, _): .round(result, connection)
        case .opened(let shard, let token, let result, _): .opened(shard: shard, token: token, result, connection)
        case .polled(let shard, let token, let started, let result, _):
            .polled(shard: shard, token: token, started: started, result, connection)
        case .checkpointed(let shard, let token, let result, _):
            .checkpointed(shard: shard, token: token, result, connection)
        case .roundDue, .checkpointDue, .idleCheck, .stop: self
        }
    }
}
