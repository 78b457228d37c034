import NIOCore
import RillClient
import RillKinesis

/// The shell around `ShardLineage` and `PollPacer`: lists shards, opens iterators, polls each shard and prints
/// in one loop. Every call and sleep is a child of one task group; only the loop touches the state.
///
/// Where a shard starts is the lineage's `StartPosition`; a consumer group's checkpoints (issue 18, item 1) would
/// come in as a per-shard position here (`open(shard, after:)` already resumes after a sequence number).
struct TailRunner: Sendable {
    let client: ClientOptions
    let stream: String
    let start: ShardLineage.StartPosition
    let json: Bool
    let maxRecords: Int?
    let idleExit: Duration?
    let deaggregate: Bool

    fileprivate enum Event: Sendable {
        case listed(Result<[ShardLineage.Shard], KinesisClient.CallError>, KinesisClient)
        case opened(shard: String, Result<String, KinesisClient.CallError>, KinesisClient)
        case polled(
            shard: String,
            started: Duration,
            Result<KinesisClient.RecordsPage, KinesisClient.CallError>,
            KinesisClient
        )
        case idleCheck
    }

    /// One shard being read.
    private struct Cursor {
        /// Where the shard started: an expired iterator with nothing printed yet reopens here.
        var start: ShardLineage.StartPosition
        var iterator: String?
        /// The last sequence number printed from this shard: where an expired iterator resumes.
        var lastSequence: String?
        var pacer = PollPacer()
        var failures = 0
    }

    func run(group: any EventLoopGroup) async throws {
        let format = TailFormat(json: json, deaggregate: deaggregate)
        var lineage = ShardLineage(start: start)
        var cursors: [String: Cursor] = [:]
        var idle: [KinesisClient] = [try await client.connect(on: group)]
        var printed = 0
        let clock = ContinuousClock()
        let origin = clock.now
        var lastRecordAt = Duration.zero
        var random = SystemRandomNumberGenerator()
        let stream = self.stream
        let options = self.client

        try await withThrowingTaskGroup(of: Event.self) { tasks in
            /// Runs `call` on an idle connection (or a new one) after `delay`.
            func spawn(after delay: Duration = .zero, _ call: @escaping @Sendable (KinesisClient) async -> Event) {
                let pooled = idle.popLast()
                tasks.addTask {
                    if delay > .zero { try await Task.sleep(for: delay) }
                    var connection: KinesisClient
                    if let pooled {
                        connection = pooled
                    } else {
                        connection = try await options.connect(on: group)
                    }
                    let event = await call(connection)
                    // A transport failure leaves the connection in doubt: replace it before it goes back to the pool.
                    if event.failureCode == "transport" { try? await connection.reconnect() }
                    return event.with(connection)
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
            func open(
                _ shard: String,
                _ position: ShardLineage.StartPosition,
                after sequence: String?,
                delay: Duration = .zero
            ) {
                spawn(after: delay) { connection in
                    do throws(KinesisClient.CallError) {
                        let iterator = try await connection.shardIterator(
                            stream: stream,
                            shard: shard,
                            position: position,
                            afterSequenceNumber: sequence
                        )
                        return .opened(shard: shard, .success(iterator), connection)
                    } catch {
                        return .opened(shard: shard, .failure(error), connection)
                    }
                }
            }
            func poll(_ shard: String, at instant: Duration) {
                guard let iterator = cursors[shard]?.iterator else { return }
                let now = clock.now - origin
                spawn(after: instant > now ? instant - now : .zero) { connection in
                    let started = clock.now - origin
                    do throws(KinesisClient.CallError) {
                        return .polled(
                            shard: shard,
                            started: started,
                            .success(try await connection.getRecords(iterator: iterator)),
                            connection
                        )
                    } catch {
                        return .polled(shard: shard, started: started, .failure(error), connection)
                    }
                }
            }
            func begin(_ reads: [ShardLineage.Read]) {
                for read in reads {
                    cursors[read.shardID] = Cursor(start: read.from)
                    open(read.shardID, read.from, after: nil)
                }
            }

            list()
            if let idleExit {
                tasks.addTask {
                    try await Task.sleep(for: idleExit)
                    return .idleCheck
                }
            }
            var listedOnce = false
            loop: while let event = try await tasks.next() {
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
                case .opened(let shard, .success(let iterator), _):
                    cursors[shard]?.iterator = iterator
                    cursors[shard]?.failures = 0
                    poll(shard, at: now)
                case .opened(let shard, .failure(let error), _):
                    guard error.isThrottling, var cursor = cursors[shard] else {
                        throw ToolFailure("rill tail: GetShardIterator for \(shard) failed: \(error)")
                    }
                    cursor.failures += 1
                    cursors[shard] = cursor
                    open(
                        shard,
                        cursor.start,
                        after: cursor.lastSequence,
                        delay: Backoff(base: .milliseconds(250)).delay(attempt: cursor.failures, using: &random)
                    )
                case .polled(let shard, let started, .success(let page), _):
                    var output: [UInt8] = []
                    for record in page.records {
                        for line in format.lines(of: record, shardID: shard) {
                            guard maxRecords.map({ printed < $0 }) ?? true else { break }
                            format.render(line, into: &output)
                            printed += 1
                        }
                        cursors[shard]?.lastSequence = record.sequenceNumber
                    }
                    if !page.records.isEmpty { lastRecordAt = now }
                    if !output.isEmpty && !StandardStream.write(output, to: 1) { break loop }
                    if let maxRecords, printed >= maxRecords { break loop }
                    guard let next = page.nextShardIterator else {
                        cursors[shard] = nil
                        let reads = lineage.finished(shard, children: page.childShards)
                        begin(reads)
                        // No children named: a fresh list finds them (and any other new shard).
                        if page.childShards.isEmpty { list() }
                        continue
                    }
                    cursors[shard]?.iterator = next
                    let behind = !page.records.isEmpty && (page.millisBehindLatest ?? 1) > 0
                    if var cursor = cursors[shard] {
                        let at = cursor.pacer.next(
                            after: behind ? .behind : .caughtUp,
                            callStarted: started,
                            random: &random
                        )
                        cursors[shard] = cursor
                        poll(shard, at: at)
                    }
                case .polled(let shard, let started, .failure(let error), _):
                    guard var cursor = cursors[shard] else { continue }
                    if error.code == "ExpiredIteratorException" {
                        open(shard, cursor.start, after: cursor.lastSequence)
                    } else if error.isThrottling {
                        let at = cursor.pacer.next(after: .throttled, callStarted: started, random: &random)
                        cursors[shard] = cursor
                        poll(shard, at: at)
                    } else {
                        throw ToolFailure("rill tail: GetRecords on \(shard) failed: \(error)")
                    }
                case .idleCheck:
                    guard let idleExit else { continue }
                    if now - lastRecordAt >= idleExit { break loop }
                    let wait = idleExit - (now - lastRecordAt)
                    tasks.addTask {
                        try await Task.sleep(for: wait)
                        return .idleCheck
                    }
                }
            }
            tasks.cancelAll()
        }
        for connection in idle { await connection.close() }
    }
}

extension TailRunner.Event {
    var connection: KinesisClient? {
        switch self {
        case .listed(_, let connection), .opened(_, _, let connection), .polled(_, _, _, let connection): connection
        case .idleCheck: nil
        }
    }

    var failureCode: String? {
        switch self {
        case .listed(.failure(let error), _), .opened(_, .failure(let error), _), .polled(_, _, .failure(let error), _):
            error.code
        default: nil
        }
    }

    func with(_ connection: KinesisClient) -> Self {
        switch self {
        case .listed(let result, _): .listed(result, connection)
        case .opened(let shard, let result, _): .opened(shard: shard, result, connection)
        case .polled(let shard, let started, let result, _): .polled(shard: shard, started: started, result, connection)
        case .idleCheck: .idleCheck
        }
    }
}
