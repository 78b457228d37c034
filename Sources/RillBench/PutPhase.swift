import NIOCore
import RillClient
import RillKinesis
import RillModel

/// What a put phase sends per request.
enum PutKind: Sendable {
    /// PutRecords with this many records per call.
    case batch(Int)
    /// One PutRecord per call.
    case single

    var recordsPerRequest: Int {
        switch self {
        case .batch(let count): count
        case .single: 1
        }
    }
}

/// A put phase: `producers` connections, each sending its next request when the previous is answered
/// (closed loop, for throughput), or at fixed instants (open loop at `rate`, for latency).
///
/// Open loop follows wrk2: request k of the phase is due at `start + k × interval`, producer i sends
/// requests i, i+N, i+2N, …, and latency runs from the instant a request was *due*, so a stalled
/// server is charged for the requests it kept from being sent (coordinated omission, Tene 2013).
struct PutPhase: Sendable {
    var name: String
    var kind: PutKind
    var settings: BenchSettings
    var payload: PayloadFactory
    /// Records per second across all producers; nil runs closed loop.
    var rate: Double?

    func run(group: any EventLoopGroup) async throws -> PhaseResult {
        // Connect everything before the clock starts, so connection set-up is not measured.
        var clients: [KinesisClient] = []
        for producer in 0..<settings.producers {
            clients.append(
                try await KinesisClient.connect(
                    to: settings.endpoint(for: producer),
                    on: group,
                    wire: settings.wire,
                    signer: settings.signer
                )
            )
        }
        let counters = LiveCounters()
        let start = NIODeadline.now()
        let deadline = start + .nanoseconds(Int64(settings.duration * 1e9))
        let tallies = await withTaskGroup(of: WorkerTally?.self) { tasks in
            tasks.addTask {
                await Progress.run(phase: name, counters: counters, start: start)
                return nil
            }
            for (index, client) in clients.enumerated() {
                tasks.addTask {
                    await produce(index: index, client: client, counters: counters, start: start, deadline: deadline)
                }
            }
            var tallies: [WorkerTally] = []
            while tallies.count < clients.count, let next = await tasks.next() {
                if let tally = next { tallies.append(tally) }
            }
            tasks.cancelAll()
            return tallies
        }
        let end = NIODeadline.now()
        var total = WorkerTally()
        for tally in tallies { total.merge(tally) }
        return PhaseResult(
            name: name,
            seconds: Double(nanoseconds(from: start.uptimeNanoseconds, to: end.uptimeNanoseconds)) / 1e9,
            tally: total,
            targetRate: rate,
            connections: clients.count
        )
    }

    /// One producer's loop, bounded by the phase deadline and the `--records` cap (and, open loop, the schedule).
    private func produce(
        index: Int,
        client: KinesisClient,
        counters: LiveCounters,
        start: NIODeadline,
        deadline: NIODeadline
    ) async -> WorkerTally {
        var client = client
        var tally = WorkerTally()
        var rng = SplitMix64(seed: settings.seed &+ UInt64(index) &* 0x1000_0000_0001)
        let allocator = client.connection.channel.allocator
        let perRequest = kind.recordsPerRequest
        let interval = rate.map { Int64((Double(perRequest) / $0 * 1e9).rounded()) }
        var slot = Int64(index)
        // `--idempotent`: one producer per connection, its records numbered from 0 (never retried here).
        let producerID = "bench-\(settings.seed)-\(index)"
        var nextSequence: UInt64 = 0
        while NIODeadline.now() < deadline {
            var due: NIODeadline? = nil
            if let interval {
                let at = start + .nanoseconds(slot * interval)
                guard at < deadline else { break }
                due = at
                slot += Int64(settings.producers)
            }
            let count = counters.claim(perRequest, cap: settings.recordCap)
            guard count > 0 else { break }
            let body: ByteBuffer
            let operation: KinesisOperation
            switch kind {
            case .batch:
                body = payload.putRecordsBody(count: count, rng: &rng, allocator: allocator)
                operation = .putRecords
            case .single:
                body = payload.putRecordBody(rng: &rng, allocator: allocator)
                operation = .putRecord
            }
            let reply: HTTPReply
            do {
                var headers: [(String, String)] = []
                if settings.idempotent {
                    headers = [
                        (ProducerStamp.idHeader, producerID),
                        (
                            ProducerStamp.sequenceHeader,
                            ProducerStamp.headerValue(Array(nextSequence..<nextSequence + UInt64(count)))
                        ),
                    ]
                    nextSequence += UInt64(count)
                }
                reply = try await client.call(operation, body: body, at: due, headers: headers)
            } catch {
                tally.countError(HTTPClientError.code(of: error))
                counters.errors.add(1, ordering: .relaxed)
                // A dead connection would fail every later request at once; replace it, or stop this producer.
                do { try await client.reconnect() } catch { break }
                continue
            }
            let from = due?.uptimeNanoseconds ?? reply.sentAt
            tally.latency.record(nanoseconds(from: from, to: reply.receivedAt))
            if due != nil { tally.serviceTime.record(nanoseconds(from: reply.sentAt, to: reply.receivedAt)) }
            tally.requests += 1
            counters.requests.add(1, ordering: .relaxed)
            let errorsBefore = tally.errorCount
            let stored = account(reply, sent: count, operation: operation, tally: &tally)
            counters.errors.add(tally.errorCount - errorsBefore, ordering: .relaxed)
            tally.records += stored
            tally.bytes += stored * payload.recordBytes
            counters.records.add(stored, ordering: .relaxed)
            counters.bytes.add(stored * payload.recordBytes, ordering: .relaxed)
        }
        await client.close()
        return tally
    }

    /// Counts the reply's errors and returns how many of the `sent` records the server stored.
    private func account(_ reply: HTTPReply, sent: Int, operation: KinesisOperation, tally: inout WorkerTally) -> Int {
        guard reply.status == .ok else {
            tally.countError(KinesisReply.error(in: reply).code)
            return 0
        }
        guard operation == .putRecords else { return sent }
        // PutRecords answers 200 even when records fail; the per-record ErrorCode says why.
        guard let object = try? KinesisReply.object(reply.body, operation: operation) else {
            tally.countError("unparseable PutRecords reply")
            return 0
        }
        let failed = KinesisReply.int(object, "FailedRecordCount") ?? 0
        guard failed > 0 else { return sent }
        var counted = 0
        for case .object(let entry) in KinesisReply.array(object, "Records") ?? [] {
            if let code = KinesisReply.string(entry, "ErrorCode") {
                tally.countError(code)
                counted += 1
            }
        }
        if counted < failed { tally.countError("failed record without ErrorCode", times: failed - counted) }
        return max(0, sent - failed)
    }
}
