import Foundation
import NIOCore
import RillChaos

extension ChaosRun {
    private enum Work: Sendable {
        case writer(Writer.Tally)
        case consumer(Consumer.Tally)
        case nemesis(Result<Nemesis.Report, ChaosError>)
    }

    private struct WorkResult: Sendable {
        var nemesis: Result<Nemesis.Report, ChaosError> = .failure(.harness("the nemesis never finished"))
        var writers: [Writer.Tally] = []
        var consumers: [Consumer.Tally] = []
        var healError: ChaosError?
        var readyAfterHeal = false
    }

    /// The workload under the nemesis for `duration`, then healing, convergence, the final read and the check.
    func workloadAndCheck(
        cluster: any ChaosCluster, local: LocalCluster?, admin: AdminClient, recorder: Recorder, nemesis: Nemesis,
        shards: [String], group: any EventLoopGroup
    ) async throws(ChaosError) -> ChaosOutcome {
        do {
            return try await workloadAndCheckRecording(
                cluster: cluster, local: local, admin: admin, recorder: recorder, nemesis: nemesis, shards: shards,
                group: group)
        } catch {
            // Keep what was recorded: the history of a run that could not finish is still worth reading.
            try? await recorder.close()
            throw error
        }
    }

    private func workloadAndCheckRecording(
        cluster: any ChaosCluster, local: LocalCluster?, admin: AdminClient, recorder: Recorder, nemesis: Nemesis,
        shards: [String], group: any EventLoopGroup
    ) async throws(ChaosError) -> ChaosOutcome {
        let configuration = self.configuration
        let stream = configuration.streamName
        let end = ContinuousClock.now + .milliseconds(Int(configuration.duration * 1000))
        // Workers stop when told; this only bounds them should healing hang.
        let hardDeadline = end + .seconds(300)
        let writesStop = StopFlag()
        let readsStop = StopFlag()
        let schedule = FaultSchedule(
            seed: configuration.seed, kinds: configuration.faults, nodes: configuration.nodes, shards: shards.count)
        let addresses = cluster.members.map(\.api)

        let work = await withTaskGroup(of: Work.self) { tasks in
            for process in 1...configuration.writers {
                let writer = Writer(
                    process: process, seed: configuration.seed, stream: stream, cluster: cluster, recorder: recorder,
                    group: group, recordsPerSecond: configuration.rate / Double(configuration.writers),
                    timeout: configuration.writeTimeout)
                tasks.addTask { .writer(await writer.run(stop: writesStop, deadline: hardDeadline)) }
            }
            for reader in 0..<configuration.readers {
                for (index, shard) in shards.enumerated() {
                    let consumer = Consumer(
                        process: configuration.writers + 1 + reader * shards.count + index, seed: configuration.seed,
                        stream: stream, shard: shard, cluster: cluster, recorder: recorder, group: group)
                    tasks.addTask { .consumer(await consumer.run(stop: readsStop, deadline: hardDeadline)) }
                }
            }
            tasks.addTask { .nemesis(await nemesis.result(schedule: schedule, until: end)) }
            var result = WorkResult()
            for await finished in tasks {
                switch finished {
                case .writer(let tally): result.writers.append(tally)
                case .consumer(let tally): result.consumers.append(tally)
                case .nemesis(let report):
                    result.nemesis = report
                    // Heal whatever is still broken, wait until every node serves, then stop the workload.
                    result.healError = await local?.healAllReportingError()
                    if local == nil { _ = await nemesis.healEverywhere() }
                    result.readyAfterHeal = await admin.waitReady(addresses, within: .seconds(60))
                    writesStop.set()
                    readsStop.set()
                }
            }
            return result
        }
        if let error = work.healError { throw error }
        let report = try work.nemesis.get()
        guard work.readyAfterHeal else {
            throw .unrecovered("after healing, not every node answered /ready within 60 s; see \(logDirectoryPath)")
        }
        let acknowledged = work.writers.reduce(0) { $0 + $1.acknowledged }
        let attempted = work.writers.reduce(0) { $0 + $1.records }
        console.line(
            "[\(Seconds(milliseconds: recorder.now))] healed, workload stopped: \(acknowledged) of \(attempted) "
                + "records acknowledged; \(report.injected.count) faults injected")
        if let problem = await nemesis.waitHealthy(within: .seconds(60)) {
            throw .unrecovered("60 s after healing the cluster is not whole: \(problem)")
        }

        let converging = ContinuousClock.now
        let (checksums, divergence) = await converge(cluster: cluster, admin: admin, shards: shards)
        let convergedAfter = divergence == nil ? converging.duration(to: .now) : nil
        console.line(
            divergence.map { "replicas did not converge within 90 s: \($0)" }
                ?? "replicas converged after \(Seconds(converging.duration(to: .now)))")
        for node in cluster.members {
            if let list = checksums[node.id] ?? nil {
                recorder.append([.checksums(ChecksumsEvent(time: recorder.now, node: node.name, shards: list))])
            }
        }

        let finalCounts = try await FinalRead(stream: stream, cluster: cluster, recorder: recorder, group: group)
            .run(shards: shards, deadline: .now + .seconds(120))
        try await recorder.close()
        let history: History
        do {
            history = try HistoryReader.read(
                contentsOf: configuration.outDirectory.appendingPathComponent("history.jsonl"))
        } catch {
            throw .harness("cannot read back history.jsonl: \(error)")
        }
        return ChaosOutcome(
            verdict: Checker().check(history), faults: report.injected.map(Nemesis.describe),
            unhealthy: report.unhealthy, divergence: divergence, convergedAfter: convergedAfter,
            attemptedRecords: attempted, acknowledgedRecords: acknowledged,
            writeCalls: work.writers.reduce(0) { $0 + $1.calls },
            consumerPages: work.consumers.reduce(0) { $0 + $1.pages },
            consumerRecords: work.consumers.reduce(0) { $0 + $1.records },
            finalRecords: finalCounts.values.reduce(0, +), historyEvents: history.events.count)
    }

    /// Polls every node's checksums until all replicas agree, for up to 90 s; returns the last checksums
    /// and, if they never agreed, the last difference.
    private func converge(cluster: any ChaosCluster, admin: AdminClient, shards: [String]) async
        -> (checksums: [Int: [ShardChecksum]?], divergence: String?)
    {
        let deadline = ContinuousClock.now + .seconds(90)
        var checksums: [Int: [ShardChecksum]?] = [:]
        var divergence: String? = "not checked"
        while ContinuousClock.now < deadline, !Task.isCancelled {
            for node in cluster.members {
                checksums[node.id] = await admin.checksums(at: node.api, streamName: configuration.streamName)
            }
            divergence = ClusterHealth.divergence(checksums: checksums, ids: cluster.ids, shards: shards)
            if divergence == nil { break }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return (checksums, divergence)
    }

    var logDirectoryPath: String { configuration.outDirectory.appendingPathComponent("nodes").path }
}
