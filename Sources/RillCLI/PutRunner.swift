import NIOCore
import NIOPosix
import RillClient
import RillKinesis
import RillModel

/// The shell around `PutBatcher`: reads input on a thread pool, renders keys, aggregates when asked, sends the
/// calls the batcher asks for and sleeps when it says. Every task it starts is a child of one task group.
struct PutRunner: Sendable {
    let client: ClientOptions
    let stream: String
    let settings: PutBatcher.Settings
    let keys: PartitionKeyTemplate
    let explicitHashKeys: PartitionKeyTemplate?
    let input: InputRecords
    /// Aggregate per predicted shard up to this many bytes; nil sends each record as it is.
    let aggregateMaxBytes: Int?
    /// This run's idempotent-producer id: a retried record the stream already holds is not stored twice
    /// (docs/producers.md). New for every run, since the records are numbered from 0 in each.
    let producerID = "rill-put-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)

    struct Outcome: Sendable {
        var summary: PutBatcher.Summary
        /// Records refused before sending: no key could be made, or too big for Kinesis.
        var rejected: Int
        var firstRejection: String?
        var fatal: String?
        var seconds: Double

        var succeeded: Bool { fatal == nil && rejected == 0 && summary.failed == 0 && summary.unsent == 0 }

        var report: String {
            let total = summary.written + summary.failed + summary.unsent + rejected
            var line = "rill put: \(summary.written) of \(total) records written in \(summary.calls) PutRecords calls"
            if summary.kinesisRecords != summary.written {
                line += " (\(summary.kinesisRecords) Kinesis records, aggregated)"
            }
            line += ", \(summary.retries) retries, \(String(format: "%.1f", seconds)) s"
            if let fatal { line += "\nrill put: stopped: \(fatal)" }
            let failed = summary.failed + summary.unsent + rejected
            if failed > 0 {
                line += "\nrill put: \(failed) records failed: \(summary.failed) after retries or refused"
                line += ", \(summary.unsent) not sent (an earlier record of their key failed, or the run stopped)"
                line += ", \(rejected) rejected before sending"
                if let firstRejection { line += " (first: \(firstRejection))" }
                if let lastError = summary.lastError { line += "; last error: \(lastError)" }
            }
            return line
        }
    }

    private enum Event: Sendable {
        case input(Result<[InputRecord], any Error>)
        case reply(call: Int, client: KinesisClient, KinesisClient.PutRecordsResult)
        case wake
    }

    /// Records read per input chunk; aggregates never span two chunks.
    static let chunkRecords = 1000
    static let chunkBytes = 4 << 20

    func run(group: any EventLoopGroup, pool: NIOThreadPool) async throws -> Outcome {
        var idle: [KinesisClient] = []
        for _ in 0..<settings.maxInFlightCalls { idle.append(try await client.connect(on: group)) }
        var shards: [(id: String, range: HashRange)] = []
        if aggregateMaxBytes != nil {
            do {
                shards = try await idle[0].openShardRanges(stream: stream)
            } catch {
                for connection in idle { await connection.close() }
                throw ToolFailure("rill put: ListShards failed: \(error)")
            }
        }
        var state = PutState(
            batcher: PutBatcher(settings: settings),
            keys: keys,
            explicitHashKeys: explicitHashKeys,
            shards: shards,
            aggregateMaxBytes: aggregateMaxBytes
        )
        let clock = ContinuousClock()
        let start = clock.now
        var random = SystemRandomNumberGenerator()
        var lastProgress = start
        let input = self.input
        let stream = self.stream
        let producerID = self.producerID

        let finalState = try await withThrowingTaskGroup(of: Event.self) { tasks in
            var reading = false
            var inputEnded = false
            var wakeAt: Duration?
            func startRead() {
                reading = true
                tasks.addTask {
                    do {
                        return .input(
                            .success(
                                try await pool.runIfActive {
                                    try input.next(maxRecords: Self.chunkRecords, maxBytes: Self.chunkBytes)
                                }
                            )
                        )
                    } catch {
                        return .input(.failure(error))
                    }
                }
            }
            func apply(_ directives: [PutBatcher.Directive]) {
                for directive in directives {
                    switch directive {
                    case .send(let call):
                        guard let connection = idle.popLast() else {
                            preconditionFailure(
                                "PutBatcher sent call \(call.id) with all \(settings.maxInFlightCalls) connections busy"
                            )
                        }
                        tasks.addTask {
                            var connection = connection
                            let result = await connection.putRecords(
                                stream: stream,
                                entries: call.entries,
                                producer: ProducerStamp(producerID: producerID, sequences: call.recordNumbers)
                            )
                            if case .failed(.transport) = result {
                                // The next call on this slot gets a fresh connection; if that fails too, it fails as transport.
                                try? await connection.reconnect()
                            }
                            return .reply(call: call.id, client: connection, result)
                        }
                    case .wake(let at):
                        if let pending = wakeAt, pending <= at { continue }
                        wakeAt = at
                        tasks.addTask {
                            try? await Task.sleep(until: start + at, clock: clock)
                            return .wake
                        }
                    }
                }
            }

            startRead()
            while !(state.batcher.isFinished && (inputEnded || state.batcher.fatal != nil)) {
                guard let event = try await tasks.next() else { break }
                let now = clock.now - start
                switch event {
                case .input(.success(let records)):
                    reading = false
                    if records.isEmpty {
                        inputEnded = true
                        apply(state.endOfInput(now: now))
                    } else {
                        apply(state.add(records, now: now, random: &random))
                    }
                case .input(.failure(let error)):
                    reading = false
                    inputEnded = true
                    state.inputError = "\(error)"
                    apply(state.endOfInput(now: now))
                case .reply(let call, let connection, let result):
                    idle.append(connection)
                    switch result {
                    case .answered(let outcomes):
                        apply(state.batcher.callSucceeded(id: call, outcomes: outcomes, now: now, random: &random))
                    case .failed(let failure):
                        apply(state.batcher.callFailed(id: call, failure: failure, now: now, random: &random))
                    }
                case .wake:
                    wakeAt = nil
                    apply(state.batcher.tick(now: now))
                }
                if !reading && !inputEnded && state.batcher.acceptsInput { startRead() }
                if StandardStream.errorIsTerminal && clock.now - lastProgress >= .milliseconds(250) {
                    lastProgress = clock.now
                    let summary = state.batcher.summary
                    StandardStream.error(
                        "\r\u{1B}[2Krill put: \(summary.written) written, \(state.batcher.buffered) pending, "
                            + "\(state.batcher.callsInFlight) calls in flight, \(summary.retries) retries"
                    )
                }
            }
            // A read blocked on a quiet pipe after a fatal error notices this within its poll interval.
            input.stop()
            tasks.cancelAll()
            return state
        }
        if StandardStream.errorIsTerminal { StandardStream.error("\r\u{1B}[2K") }
        for connection in idle { await connection.close() }
        return Outcome(
            summary: finalState.batcher.summary,
            rejected: finalState.rejected,
            firstRejection: finalState.firstRejection,
            fatal: finalState.batcher.fatal ?? finalState.inputError,
            seconds: Double((clock.now - start).components.seconds) + Double((clock.now - start).components.attoseconds)
                / 1e18
        )
    }
}

/// The runner's bookkeeping between events: the batcher, key rendering and the per-shard aggregators.
struct PutState: Sendable {
    var batcher: PutBatcher
    let keys: PartitionKeyTemplate
    let explicitHashKeys: PartitionKeyTemplate?
    let shards: [(id: String, range: HashRange)]
    let aggregateMaxBytes: Int?
    var aggregators: [String: KPLAggregator] = [:]
    var number = 0
    var rejected = 0
    var firstRejection: String?
    var inputError: String?

    mutating func add(
        _ records: [InputRecord],
        now: Duration,
        random: inout some RandomNumberGenerator
    ) -> [PutBatcher.Directive] {
        var directives: [PutBatcher.Directive] = []
        for record in records {
            defer { number += 1 }
            let context = PartitionKeyTemplate.Context(
                number: number,
                lineNumber: record.lineNumber,
                file: record.file,
                data: record.data
            )
            let key: String
            let hashKey: String?
            do {
                key = try keys.render(context, random: &random)
                hashKey = try explicitHashKeys?.render(context, random: &random)
            } catch {
                reject("\(error)")
                continue
            }
            if let hashKey, case .valid = HashKey.parse(hashKey) {
            } else if let hashKey {
                reject("record \(number): explicit hash key \(hashKey) is not a decimal in 0…2^128-1")
                continue
            }
            guard record.data.count + key.utf8.count <= KPLAggregation.maxKinesisRecordBytes else {
                reject("record \(number) (\(record.file) line \(record.lineNumber)) is over 1 MiB with its key")
                continue
            }
            let user = KPLUserRecord(partitionKey: key, explicitHashKey: hashKey, data: record.data)
            guard let maxBytes = aggregateMaxBytes else {
                directives += batcher.add(
                    ProducerEntry(partitionKey: key, explicitHashKey: hashKey, data: record.data),
                    now: now
                )
                continue
            }
            let hash = user.hashKey
            let shard = shards.first { $0.range.contains(hash) }?.id ?? ""
            var aggregator = aggregators[shard] ?? KPLAggregator(maxBytes: maxBytes)
            for output in aggregator.add(user) { directives += batcher.add(Self.entry(output, shard: shard), now: now) }
            aggregators[shard] = aggregator
        }
        // Aggregates hold one chunk of input at most, so a slow producer's records are not held back.
        for shard in aggregators.keys.sorted() {
            if let output = aggregators[shard]?.flush() {
                directives += batcher.add(Self.entry(output, shard: shard), now: now)
            }
        }
        return directives
    }

    mutating func endOfInput(now: Duration) -> [PutBatcher.Directive] { batcher.endOfInput(now: now) }

    private mutating func reject(_ reason: String) {
        rejected += 1
        if firstRejection == nil { firstRejection = reason }
    }

    /// All of one shard's aggregates share an ordering key, so they are written in order.
    private static func entry(_ output: KPLAggregator.Output, shard: String) -> ProducerEntry {
        ProducerEntry(
            partitionKey: output.partitionKey,
            explicitHashKey: output.explicitHashKey,
            data: output.data,
            orderingKey: "shard:" + shard,
            userRecords: output.userRecords
        )
    }
}
