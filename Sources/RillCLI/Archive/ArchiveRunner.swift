import Foundation
import NIOCore
import NIOPosix
import RillClient
import RillKinesis

/// The shell of `rill archive`: joins the consumer group, runs lease rounds, starts an `ArchiveShardWorker` for
/// each shard it gains, reports, and on SIGTERM or SIGINT lets every worker write and checkpoint what it buffered,
/// then releases the leases. Every call and worker is a child of one task group; only this loop touches its state.
struct ArchiveRunner: Sendable {
    let client: ClientOptions
    let stream: String
    let group: String
    let worker: String
    let settings: ArchiveSettings
    let destination: any ArchiveDestination
    let signals: SignalWatcher
    /// How often the periodic report line is logged.
    let reportInterval: Duration

    enum Event: Sendable {
        case round(Result<[KinesisClient.GroupLease], KinesisClient.CallError>)
        case roundDue
        case shardDone(String, ArchiveShardWorker.Exit)
        case report
        case stop
    }

    /// Runs until stopped; returns the totals.
    func run(group loopGroup: any EventLoopGroup, threadPool: NIOThreadPool) async throws -> ArchiveControl.Totals {
        let destination = self.destination
        do throws(ArchiveDestinationError) {
            if let cleaned = try await destination.prepare() { log(cleaned) }
        } catch {
            throw ToolFailure("rill archive: cannot prepare \(destination.description): \(error)")
        }
        var control = try await client.connect(on: loopGroup)
        let description: KinesisClient.GroupDescription
        do throws(KinesisClient.CallError) {
            description = try await control.createOrDescribeGroup(
                stream: stream,
                group: group,
                position: .trimHorizon
            )
        } catch {
            await control.close()
            throw ToolFailure("rill archive: cannot set up group \(group) on \(stream): \(error)")
        }
        log("worker \(worker) joins group \(group) on \(stream), archiving to \(destination.description)")
        let roundInterval = Duration.milliseconds(max(250, description.failoverMillis / 4))
        let shared = ArchiveControl()
        var held: [String: Int] = [:]
        var running: Set<String> = []
        var roundRunning = false
        var stopping = false
        // Set when the destination refuses objects for good: the run stops and exits with it.
        var refusal: String? = nil
        let stream = self.stream
        let groupName = self.group
        let worker = self.worker
        let settings = self.settings
        let options = self.client
        let signals = self.signals
        let reportInterval = self.reportInterval
        var lastReport = ArchiveControl.Totals()

        try await withThrowingTaskGroup(of: Event.self) { tasks in
            func round() {
                roundRunning = true
                let leases = held.map { (shard: $0.key, token: $0.value) }
                let connection = control
                tasks.addTask {
                    do throws(KinesisClient.CallError) {
                        let answer = try await connection.leaseRound(
                            stream: stream,
                            group: groupName,
                            worker: worker,
                            held: leases
                        )
                        return .round(.success(answer))
                    } catch {
                        return .round(.failure(error))
                    }
                }
            }
            func after(_ delay: Duration, _ event: Event) {
                tasks.addTask {
                    try await Task.sleep(for: delay)
                    return event
                }
            }

            round()
            after(reportInterval, .report)
            tasks.addTask {
                _ = await signals.next()
                return .stop
            }
            loop: while let event = try await tasks.next() {
                switch event {
                case .round(.success(let leases)):
                    roundRunning = false
                    if !stopping { after(roundInterval, .roundDue) }
                    held = Dictionary(leases.map { ($0.shardID, $0.token) }, uniquingKeysWith: { first, _ in first })
                    shared.hold(held)
                    guard !stopping else { continue }
                    for lease in leases where !running.contains(lease.shardID) && !lease.finished {
                        running.insert(lease.shardID)
                        log("\(lease.shardID): lease taken (token \(lease.token), from \(lease.checkpoint ?? "start"))")
                        let shardWorker = ArchiveShardWorker(
                            shardID: lease.shardID,
                            token: lease.token,
                            checkpoint: lease.checkpoint,
                            initialPosition: description.initialPosition,
                            stream: stream,
                            group: groupName,
                            worker: worker,
                            settings: settings,
                            destination: destination,
                            control: shared,
                            options: options,
                            loopGroup: loopGroup,
                            threadPool: threadPool
                        )
                        tasks.addTask {
                            let exit = await shardWorker.run()
                            return .shardDone(lease.shardID, exit)
                        }
                    }
                case .round(.failure(let error)):
                    roundRunning = false
                    log("lease round failed: \(error)")
                    if error.code == "transport" { try? await control.reconnect() }  // The next round reports it.
                    if !stopping { after(.seconds(1), .roundDue) }
                case .roundDue:
                    if !roundRunning && !stopping { round() }
                case .shardDone(let shardID, let exit):
                    running.remove(shardID)
                    switch exit {
                    case .finished:
                        held.removeValue(forKey: shardID)
                        log("\(shardID): finished (SHARD_END)")
                        // Its children may be workable now.
                        if !roundRunning && !stopping { round() }
                    case .stopped:
                        break
                    case .lost(let why):
                        log("\(shardID): stopped reading: \(why)")
                    case .failed(let why):
                        log("\(shardID): \(why)")
                        if refusal == nil {
                            refusal = why
                            log("stopping: the destination refuses objects; what is not written stays in the stream")
                        }
                        stopping = true
                        shared.stop()
                    }
                case .report:
                    let totals = shared.totals
                    if totals != lastReport {
                        log(Self.summary(totals) + " so far, \(running.count) shards")
                        lastReport = totals
                    }
                    if !stopping { after(reportInterval, .report) }
                case .stop:
                    log("stopping: writing what is buffered, checkpointing, then releasing leases")
                    stopping = true
                    shared.stop()
                }
                if stopping && running.isEmpty && !roundRunning { break loop }
            }
            tasks.cancelAll()
        }
        await control.releaseLeases(stream: stream, group: groupName, worker: worker, held) { shardID, error in
            log("\(shardID): release failed (it expires after the failover time): \(error)")
        }
        await control.close()
        let totals = shared.totals
        log("stopped: " + Self.summary(totals))
        if let refusal { throw ToolFailure("rill archive: \(refusal)") }
        return totals
    }

    static func summary(_ totals: ArchiveControl.Totals) -> String {
        var text = "\(totals.records) records, \(totals.bytes) bytes in \(totals.objects) objects"
        if totals.errorRecords > 0 {
            text += "; \(totals.errorRecords) records in \(totals.errorObjects) error objects"
        }
        return text
    }

    private func log(_ message: String) { StandardStream.error("rill archive: \(message)\n") }
}
