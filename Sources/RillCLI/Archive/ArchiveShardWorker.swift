import Foundation
import NIOCore
import NIOPosix
import RillClient
import RillKinesis

/// One leased shard of `rill archive`, read start to finish by one task: GetRecords into the shard's
/// `ArchiveBuffer`, an object written whenever the buffer says one is due, then the checkpoint with the lease's
/// token, and only then the next object. It ends when the lease moves, the shard is finished (`SHARD_END`) or the
/// process stops (after writing and checkpointing what is buffered).
struct ArchiveShardWorker: Sendable {
    let shardID: String
    let token: Int
    /// The lease's checkpoint: the last record in a checkpointed object.
    let checkpoint: String?
    let initialPosition: ShardLineage.StartPosition
    let stream: String
    let group: String
    let worker: String
    let settings: ArchiveSettings
    let destination: any ArchiveDestination
    let control: ArchiveControl
    let options: ClientOptions
    let loopGroup: any EventLoopGroup
    /// Where GZIP compression runs, off the cooperative pool.
    let threadPool: NIOThreadPool

    enum Exit: Sendable {
        /// Read to its end, everything in objects and the shard checkpointed as finished.
        case finished
        /// Drained and checkpointed on shutdown.
        case stopped
        /// The lease moved: the new owner reads on from the checkpoint.
        case lost(String)
        /// The destination refused an object for good (S3's 4xx): the archiver must stop.
        case failed(String)
    }

    /// The lease was lost, or the process stops while an object cannot be written.
    private struct Abandon: Error {
        var why: String
    }

    /// The destination refused an object in a way no retry mends.
    private struct Refused: Error {
        var why: String
    }

    /// GetRecords' largest page.
    private static let pageLimit = 10_000

    /// The longest nap between looks at the stop flag and the lease, so SIGTERM is answered promptly.
    private static let nap = Duration.milliseconds(200)

    func run() async -> Exit {
        do {
            return try await archive()
        } catch let abandon as Abandon {
            return .lost(abandon.why)
        } catch let refused as Refused {
            return .failed(refused.why)
        } catch {
            return .lost("\(error)")
        }
    }

    private func archive() async throws -> Exit {
        var client = try await connect()
        do {
            let exit = try await archive(using: &client)
            await client.close()
            return exit
        } catch {
            await client.close()
            throw error
        }
    }

    private func archive(using client: inout KinesisClient) async throws -> Exit {
        var buffer = ArchiveBuffer(settings: settings)
        var iterator: String? = nil
        var lastRead = checkpoint
        var atEnd = false
        var pacer = PollPacer()
        var random = SystemRandomNumberGenerator()
        let clock = ContinuousClock()
        let origin = clock.now
        var nextPollAt = Duration.zero
        while true {
            if control.isStopping {
                while let flush = buffer.takeFlush(atMillis: Self.wallMillis(), drain: true) {
                    try await deliver(flush, buffer: &buffer, client: &client)
                }
                return .stopped
            }
            guard control.holds(shardID, token: token) else { throw Abandon(why: "lease lost") }
            if let flush = buffer.takeFlush(atMillis: Self.wallMillis(), drain: atEnd) {
                try await deliver(flush, buffer: &buffer, client: &client)
                continue
            }
            if atEnd {
                try await checkpoint(nil, client: &client)
                return .finished
            }
            let now = clock.now - origin
            guard buffer.wantsRecords, now >= nextPollAt else {
                var wait = Self.nap
                if nextPollAt > now { wait = min(wait, nextPollAt - now) }
                if let deadline = buffer.deadlineMillis {
                    wait = min(wait, .milliseconds(deadline - Self.wallMillis()))
                }
                try await Task.sleep(for: max(wait, .milliseconds(1)))
                continue
            }
            do throws(KinesisClient.CallError) {
                if iterator == nil {
                    iterator = try await client.shardIterator(
                        stream: stream,
                        shard: shardID,
                        position: initialPosition,
                        afterSequenceNumber: lastRead
                    )
                }
                guard let current = iterator else { continue }
                let started = clock.now - origin
                let page = try await client.getRecords(iterator: current, limit: Self.pageLimit)
                let records = page.records.map(Self.archived)
                buffer.offer(records, atMillis: Self.wallMillis())
                if let last = records.last { lastRead = last.sequenceNumber }
                if let next = page.nextShardIterator {
                    iterator = next
                    // A full page means more is waiting, whatever MillisBehindLatest says: records put together
                    // arrive together, so the tip can be 0 ms ahead of a page that is not the last.
                    let behind =
                        !records.isEmpty
                        && (records.count >= Self.pageLimit || (page.millisBehindLatest ?? 1) > 0)
                    nextPollAt = pacer.next(after: behind ? .behind : .caughtUp, callStarted: started, random: &random)
                } else {
                    iterator = nil
                    atEnd = true
                }
            } catch {
                if error.code == "ExpiredIteratorException" {
                    iterator = nil
                    continue
                }
                if !error.isThrottling { log("GetRecords failed: \(error)") }
                if error.code == "transport" { try? await client.reconnect() }  // The next call reports it if not.
                iterator = error.isThrottling ? iterator : nil
                nextPollAt = pacer.next(after: .throttled, callStarted: clock.now - origin, random: &random)
            }
        }
    }

    /// A GetRecords record as the buffer holds it: a KPL aggregate opened into its user records (Firehose
    /// de-aggregates a Kinesis source's records), anything else as it is.
    static func archived(_ record: KinesisClient.StreamRecord) -> ArchiveBuffer.Record {
        ArchiveBuffer.Record(
            sequenceNumber: record.sequenceNumber,
            // Every Rill reply carries the arrival; its absence would name objects after 1970 rather than after
            // the time of reading, which a replay could not reproduce.
            arrivalMillis: Int64(((record.approximateArrivalTimestamp ?? 0) * 1000).rounded(.down)),
            payloads: KPLAggregation.deaggregate(record.data)?.map(\.data) ?? [record.data]
        )
    }

    /// Puts `flush` in place (or, after `settings.writeAttempts` failures, its records in the error output), then
    /// checkpoints it. Retries without end while the lease holds: nothing is checkpointed that is not written.
    private func deliver(
        _ flush: ArchiveBuffer.Flush,
        buffer: inout ArchiveBuffer,
        client: inout KinesisClient
    ) async throws {
        let name = ArchiveObjectName.data(
            settings: settings,
            shardID: shardID,
            firstSequenceNumber: flush.first.sequenceNumber,
            arrivalMillis: flush.first.arrivalMillis
        )
        let body = flush.body(newline: settings.newlineDelimiter)
        let bytes: [UInt8]
        if settings.compression == .gzip {
            bytes = try await threadPool.runIfActive { try Gzip.compress(body) }
        } else {
            bytes = body
        }
        var attempts = 0
        var random = SystemRandomNumberGenerator()
        while true {
            do throws(ArchiveDestinationError) {
                try await destination.put(name.path, body: bytes)
                let delimiters = settings.newlineDelimiter ? flush.userRecords : 0
                control.archived(records: flush.userRecords, bytes: body.count - delimiters)
                break
            } catch {
                // Not checkpointed: whoever reads the shard next starts at these records again.
                if error.fatal { throw Refused(why: "cannot write \(name.path): \(error)") }
                attempts += 1
                log("cannot write \(name.path) (attempt \(attempts)): \(error)")
                if control.isStopping && attempts >= settings.writeAttempts {
                    // Not checkpointed: the next owner reads these records again.
                    throw Abandon(why: "stopping with \(name.path) not written")
                }
                if settings.afterFailedWrite(attempts: attempts) == .errorOutput,
                    try await divert(flush, name: name, attempts: attempts, error: "\(error)")
                {
                    break
                }
                guard control.holds(shardID, token: token) else { throw Abandon(why: "lease lost while writing") }
                try await Task.sleep(for: Backoff(base: .milliseconds(250)).delay(attempt: attempts, using: &random))
            }
        }
        try await checkpoint(flush.checkpoint, client: &client)
        buffer.checkpointed()
    }

    /// Writes the records of `flush` to the error output; false when that fails too (the caller retries both).
    private func divert(
        _ flush: ArchiveBuffer.Flush,
        name: ArchiveObjectName,
        attempts: Int,
        error: String
    ) async throws -> Bool {
        let errors = ArchiveObjectName.errors(
            settings: settings,
            shardID: shardID,
            firstSequenceNumber: flush.first.sequenceNumber,
            arrivalMillis: flush.first.arrivalMillis
        )
        let lines = ArchiveErrorRecord.lines(
            flush,
            attemptsMade: attempts,
            errorCode: ArchiveErrorRecord.writeFailed,
            errorMessage: error,
            attemptEndingMillis: Self.wallMillis()
        )
        do throws(ArchiveDestinationError) {
            try await destination.put(errors.path, body: lines)
            // A data object of this name can only be an earlier run's, which wrote it and died before its
            // checkpoint; left in place, its later records would be archived twice.
            try await destination.remove(name.path)
        } catch {
            if error.fatal { throw Refused(why: "cannot write the error output \(errors.path): \(error)") }
            log("cannot write the error output \(errors.path): \(error)")
            return false
        }
        log("\(flush.userRecords) records sent to the error output \(errors.path)")
        control.diverted(records: flush.userRecords)
        return true
    }

    /// Checkpoints `sequenceNumber` (the shard's end when nil) with the lease's token, retrying while the lease
    /// holds; a refusal by the lease table means the lease moved.
    private func checkpoint(_ sequenceNumber: String?, client: inout KinesisClient) async throws {
        var attempts = 0
        var random = SystemRandomNumberGenerator()
        while true {
            do throws(KinesisClient.CallError) {
                try await client.checkpoint(
                    stream: stream,
                    group: group,
                    worker: worker,
                    shard: shardID,
                    token: token,
                    sequenceNumber: sequenceNumber
                )
                return
            } catch {
                if error.code == "ResourceInUseException" || error.code == "ResourceNotFoundException" {
                    throw Abandon(why: "lease lost: \(error)")
                }
                attempts += 1
                log("checkpoint failed (attempt \(attempts)): \(error)")
                if error.code == "transport" { try? await client.reconnect() }  // The retry reports it if not.
                guard control.holds(shardID, token: token) else { throw Abandon(why: "lease lost") }
                try await Task.sleep(for: Backoff(base: .milliseconds(250)).delay(attempt: attempts, using: &random))
            }
        }
    }

    private func connect() async throws -> KinesisClient {
        var attempts = 0
        var random = SystemRandomNumberGenerator()
        while true {
            do {
                return try await options.connect(on: loopGroup)
            } catch {
                attempts += 1
                guard control.holds(shardID, token: token), !control.isStopping else {
                    throw Abandon(why: "cannot connect: \(error)")
                }
                try await Task.sleep(for: Backoff(base: .milliseconds(250)).delay(attempt: attempts, using: &random))
            }
        }
    }

    static func wallMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    private func log(_ message: String) { StandardStream.error("rill archive: \(shardID): \(message)\n") }
}
