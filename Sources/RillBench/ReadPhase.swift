import NIOCore
import RillClient
import RillKinesis

/// The read phase: one connection per shard, each draining its shard from TRIM_HORIZON with
/// GetRecords (Limit 10,000) as fast as the replies come, the way a consumer catches up.
///
/// A shard is done when it is caught up (an empty reply with MillisBehindLatest 0) or closed (no
/// NextShardIterator); the phase is done when every shard is, when `expected` records have been read
/// (what the put phases stored), at the `--records` cap, or at the deadline.
struct ReadPhase: Sendable {
    var settings: BenchSettings
    var stream: String
    /// Records the put phases stored, if they ran; reading stops once that many have come back.
    var expected: Int?

    /// Kinesis's maximum for GetRecords' Limit.
    static let maxLimit = 10_000

    func run(group: any EventLoopGroup, admin: KinesisClient) async throws -> PhaseResult {
        let shards = try await admin.listShards(stream)
        guard !shards.isEmpty else { throw BenchError("stream \(stream) has no shards") }
        var readers: [(shard: String, client: KinesisClient, iterator: String)] = []
        for (position, shard) in shards.enumerated() {
            let client = try await KinesisClient.connect(
                to: settings.endpoint(for: position),
                on: group,
                wire: settings.wire,
                signer: settings.signer
            )
            let iterator = try await client.trimHorizonIterator(stream: stream, shard: shard)
            readers.append((shard, client, iterator))
        }
        let counters = LiveCounters()
        let target = [expected, settings.recordCap].compactMap { $0 }.min()
        let start = NIODeadline.now()
        let deadline = start + .nanoseconds(Int64(settings.duration * 1e9))
        let tallies = await withTaskGroup(of: WorkerTally?.self) { tasks in
            tasks.addTask {
                await Progress.run(phase: "read", counters: counters, start: start)
                return nil
            }
            for reader in readers {
                tasks.addTask {
                    await drain(
                        client: reader.client,
                        iterator: reader.iterator,
                        counters: counters,
                        target: target,
                        deadline: deadline
                    )
                }
            }
            var tallies: [WorkerTally] = []
            while tallies.count < readers.count, let next = await tasks.next() {
                if let tally = next { tallies.append(tally) }
            }
            tasks.cancelAll()
            return tallies
        }
        let end = NIODeadline.now()
        var total = WorkerTally()
        for tally in tallies { total.merge(tally) }
        return PhaseResult(
            name: "read",
            seconds: Double(nanoseconds(from: start.uptimeNanoseconds, to: end.uptimeNanoseconds)) / 1e9,
            tally: total,
            targetRate: nil,
            connections: readers.count
        )
    }

    /// Reads one shard until it is drained or the phase ends.
    private func drain(
        client: KinesisClient,
        iterator: String,
        counters: LiveCounters,
        target: Int?,
        deadline: NIODeadline
    ) async -> WorkerTally {
        var tally = WorkerTally()
        var iterator = iterator
        let allocator = client.connection.channel.allocator
        while NIODeadline.now() < deadline {
            var limit = Self.maxLimit
            if let target {
                let remaining = target - counters.records.load(ordering: .relaxed)
                guard remaining > 0 else { break }
                // Only the cap is exact; for `expected` another shard may still hold the rest.
                if target == settings.recordCap { limit = min(limit, remaining) }
            }
            let reply: HTTPReply
            do {
                let body = Self.getRecordsBody(iterator: iterator, limit: limit, wire: client.wire)
                reply = try await client.call(.getRecords, body: allocator.buffer(bytes: body))
            } catch {
                // The iterator cannot be replayed safely on a new connection mid-phase; stop this shard.
                tally.countError(HTTPClientError.code(of: error))
                counters.errors.add(1, ordering: .relaxed)
                break
            }
            tally.latency.record(nanoseconds(from: reply.sentAt, to: reply.receivedAt))
            tally.requests += 1
            counters.requests.add(1, ordering: .relaxed)
            guard reply.status == .ok else {
                let code = KinesisReply.error(in: reply).code
                tally.countError(code)
                counters.errors.add(1, ordering: .relaxed)
                // Throttling is worth waiting out; any other error would repeat, so the shard stops.
                guard code == KinesisErrorCode.provisionedThroughputExceeded.rawValue else { break }
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            guard let summary = Self.summary(of: reply.body) else {
                tally.countError("unparseable GetRecords reply")
                counters.errors.add(1, ordering: .relaxed)
                break
            }
            // Replies in flight on other shards can overshoot `--records`; count only up to the cap.
            let counted = counters.addRecords(summary.recordSizes.count, cap: settings.recordCap)
            let bytes = summary.recordSizes.prefix(counted).reduce(0, +)
            tally.records += counted
            tally.bytes += bytes
            counters.bytes.add(bytes, ordering: .relaxed)
            guard let next = summary.nextShardIterator else { break }  // closed shard
            if summary.recordSizes.isEmpty && (summary.millisBehindLatest ?? 0) == 0 { break }  // caught up
            iterator = next
        }
        await client.close()
        return tally
    }

    /// `{"ShardIterator": …, "Limit": …}` in the client's encoding.
    static func getRecordsBody(iterator: String, limit: Int, wire: WireProtocol) -> [UInt8] {
        switch wire {
        case .json:
            var writer = JSONWriter(capacity: iterator.utf8.count + 48)
            writer.beginObject()
            writer.key("ShardIterator")
            writer.string(iterator)
            writer.key("Limit")
            writer.int(limit)
            writer.endObject()
            return writer.bytes
        case .cbor:
            var writer = CBORWriter(capacity: iterator.utf8.count + 48)
            writer.beginMap()
            writer.text("ShardIterator")
            writer.text(iterator)
            writer.text("Limit")
            writer.int(Int64(limit))
            writer.endMap()
            return writer.bytes
        }
    }

    /// The fast scan, or the strict parser when the scan meets something it does not handle.
    static func summary(of body: ByteBuffer) -> GetRecordsSummary? {
        if GetRecordsCBORScan.isCBOR(body) { return GetRecordsCBORScan.summary(of: body) }
        if let summary = GetRecordsScan.summary(of: body) { return summary }
        guard let object = try? KinesisReply.object(body, operation: .getRecords) else { return nil }
        var summary = GetRecordsSummary()
        for case .object(let record) in KinesisReply.array(object, "Records") ?? [] {
            summary.recordSizes.append(
                KinesisReply.string(record, "Data").map(KinesisReply.decodedLength(ofBase64:)) ?? 0
            )
        }
        summary.nextShardIterator = KinesisReply.string(object, "NextShardIterator")
        summary.millisBehindLatest = KinesisReply.int(object, "MillisBehindLatest")
        return summary
    }
}
