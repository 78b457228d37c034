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

    /// What the run did up to healing, for the check.
    struct Worked: Sendable {
        var stream: String
        var shards: [String]
        var nemesis: Nemesis
        var report: Nemesis.Report
        var writers: [Writer.Tally]
        var consumers: [Consumer.Tally]
    }

    private enum Phase: Sendable {
        case churn(StreamChurn.Report)
        case worked(Result<Worked, ChaosError>)
    }

    /// Everything from launching the nodes to the verdict. The catalog churn (if on) starts with the launch,
    /// before `/ready`, and runs beside formation, stream set-up and the workload until healing is done.
    func formWorkAndCheck(
        cluster: any ChaosCluster,
        local: LocalCluster?,
        network: NetworkNamespaces?,
        admin: AdminClient,
        recorder: Recorder,
        group: any EventLoopGroup
    ) async throws(ChaosError) -> ChaosOutcome {
        do {
            let churnStop = StopFlag()
            let churn =
                configuration.churn
                ? StreamChurn(
                    prefix: "\(configuration.streamName)-churn",
                    seed: configuration.seed,
                    process: configuration.writers + configuration.readers * configuration.shards + 1,
                    cluster: cluster,
                    recorder: recorder,
                    group: group
                ) : nil
            // Bounds the churn should the run hang; it normally stops when healing is done.
            let churnDeadline = ContinuousClock.now + .seconds(180) + .milliseconds(Int(configuration.duration * 1000))
            let (worked, churnReport) = await withTaskGroup(of: Phase.self) { tasks in
                if let churn { tasks.addTask { .churn(await churn.run(stop: churnStop, deadline: churnDeadline)) } }
                tasks.addTask {
                    let result = await formAndWorkResult(
                        cluster: cluster,
                        local: local,
                        network: network,
                        admin: admin,
                        recorder: recorder,
                        churnStop: churnStop,
                        group: group
                    )
                    churnStop.set()
                    return .worked(result)
                }
                var worked: Result<Worked, ChaosError> = .failure(.harness("the workload never finished"))
                var churnReport: StreamChurn.Report?
                for await phase in tasks {
                    switch phase {
                    case .churn(let report): churnReport = report
                    case .worked(let result): worked = result
                    }
                }
                return (worked, churnReport)
            }
            return try await check(
                try worked.get(),
                churn: churnReport,
                cluster: cluster,
                admin: admin,
                recorder: recorder,
                group: group
            )
        } catch {
            // Keep what was recorded: the history of a run that could not finish is still worth reading.
            try? await recorder.close()
            throw error
        }
    }

    private func formAndWorkResult(
        cluster: any ChaosCluster,
        local: LocalCluster?,
        network: NetworkNamespaces?,
        admin: AdminClient,
        recorder: Recorder,
        churnStop: StopFlag,
        group: any EventLoopGroup
    ) async -> Result<Worked, ChaosError> {
        do {
            return .success(
                try await formAndWork(
                    cluster: cluster,
                    local: local,
                    network: network,
                    admin: admin,
                    recorder: recorder,
                    churnStop: churnStop,
                    group: group
                )
            )
        } catch {
            return .failure(error)
        }
    }

    /// Launches (or heals) the nodes, waits for `/ready`, creates the stream under test, then runs the
    /// workload under the nemesis for `duration` and heals; the churn is told to stop with the workload.
    private func formAndWork(
        cluster: any ChaosCluster,
        local: LocalCluster?,
        network: NetworkNamespaces?,
        admin: AdminClient,
        recorder: Recorder,
        churnStop: StopFlag,
        group: any EventLoopGroup
    ) async throws(ChaosError) -> Worked {
        let addresses = cluster.members.map(\.api)
        try await local?.healAll()
        if local == nil {
            // A cluster found running may hold faults an earlier run left: start from none.
            for address in addresses where !(await admin.heal(at: address, within: .seconds(10))) {
                throw .harness("\(address) did not take {\"heal\":true} on /admin/faults")
            }
        }
        guard await admin.waitReady(addresses, within: .seconds(60)) else {
            throw .unrecovered(
                local == nil
                    ? "the cluster's nodes did not all answer /ready within 60 s"
                    : "the new cluster was not ready within 60 s; see \(logDirectoryPath)"
            )
        }
        let stream = configuration.streamName
        let shards = try await StreamSetup(
            stream: stream,
            shardCount: configuration.shards,
            encryptionKeyID: configuration.encryptionKeyID,
            addresses: addresses,
            group: group
        ).run(deadline: .now + .seconds(60))
        if let problem = await ClusterHealth.wait(
            admin: admin,
            cluster: cluster,
            stream: stream,
            shards: shards,
            within: .seconds(60)
        ) {
            throw .unrecovered("the stream's shards did not all get leaders within 60 s: \(problem)")
        }
        let nemesis = Nemesis(
            cluster: cluster,
            local: local,
            network: network,
            admin: admin,
            recorder: recorder,
            stream: stream,
            shards: StreamShards(StreamShards.Listing(ids: shards)),
            console: console,
            group: group
        )
        console.line(
            "[\(Seconds(milliseconds: recorder.now))] cluster ready, stream \(stream) has \(shards.count) shards; "
                + "workload and nemesis start"
        )
        return try await workload(
            cluster: cluster,
            local: local,
            admin: admin,
            recorder: recorder,
            nemesis: nemesis,
            stream: stream,
            shards: shards,
            churnStop: churnStop,
            group: group
        )
    }

    /// The workload under the nemesis for `duration`, then healing.
    private func workload(
        cluster: any ChaosCluster,
        local: LocalCluster?,
        admin: AdminClient,
        recorder: Recorder,
        nemesis: Nemesis,
        stream: String,
        shards: [String],
        churnStop: StopFlag,
        group: any EventLoopGroup
    ) async throws(ChaosError) -> Worked {
        let configuration = self.configuration
        let end = ContinuousClock.now + .milliseconds(Int(configuration.duration * 1000))
        // Workers stop when told; this only bounds them should healing hang.
        let hardDeadline = end + .seconds(300)
        let writesStop = StopFlag()
        let readsStop = StopFlag()
        let schedule = FaultSchedule(
            seed: configuration.seed,
            kinds: configuration.faults,
            nodes: configuration.nodes,
            shards: shards.count
        )

        let work = await withTaskGroup(of: Work.self) { tasks in
            for process in 1...configuration.writers {
                let writer = Writer(
                    process: process,
                    seed: configuration.seed,
                    stream: stream,
                    cluster: cluster,
                    recorder: recorder,
                    group: group,
                    recordsPerSecond: configuration.rate / Double(configuration.writers),
                    timeout: configuration.writeTimeout,
                    retrying: configuration.retryingWriters
                )
                tasks.addTask { .writer(await writer.run(stop: writesStop, deadline: hardDeadline)) }
            }
            for reader in 0..<configuration.readers {
                for (index, shard) in shards.enumerated() {
                    let consumer = Consumer(
                        process: configuration.writers + 1 + reader * shards.count + index,
                        seed: configuration.seed,
                        stream: stream,
                        shard: shard,
                        cluster: cluster,
                        recorder: recorder,
                        group: group
                    )
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
                    // The members as they are now: the replace nemesis puts new nodes in.
                    result.readyAfterHeal = await admin.waitReady(
                        cluster.members.map(\.api),
                        within: .seconds(60)
                    )
                    writesStop.set()
                    readsStop.set()
                    churnStop.set()
                }
            }
            return result
        }
        if let error = work.healError { throw error }
        let report = try work.nemesis.get()
        guard work.readyAfterHeal else {
            throw .unrecovered("after healing, not every node answered /ready within 60 s; see \(logDirectoryPath)")
        }
        return Worked(
            stream: stream,
            shards: shards,
            nemesis: nemesis,
            report: report,
            writers: work.writers,
            consumers: work.consumers
        )
    }

    var logDirectoryPath: String { configuration.outDirectory.appendingPathComponent("nodes").path }
}
