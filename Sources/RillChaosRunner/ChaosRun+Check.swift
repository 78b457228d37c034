import Foundation
import NIOCore
import RillChaos

extension ChaosRun {
    /// After healing: convergence, the placement check, the final reads (the stream under test and the churn's
    /// streams) and the checker's verdict.
    func check(
        _ worked: Worked,
        churn: StreamChurn.Report?,
        cluster: any ChaosCluster,
        admin: AdminClient,
        recorder: Recorder,
        group: any EventLoopGroup
    ) async throws(ChaosError) -> ChaosOutcome {
        let acknowledged = worked.writers.reduce(0) { $0 + $1.acknowledged }
        let attempted = worked.writers.reduce(0) { $0 + $1.records }
        console.line(
            "[\(Seconds(milliseconds: recorder.now))] healed, workload stopped: \(acknowledged) of \(attempted) "
                + "records acknowledged; \(worked.report.injected.count) faults injected"
        )
        if let problem = await worked.nemesis.waitHealthy(within: .seconds(60)) {
            throw .unrecovered("60 s after healing the cluster is not whole: \(problem)")
        }

        // The shards as they are now, parents included: the reshard nemesis may have split and merged them.
        let listing = StreamShards.Listing(
            try await StreamSetup.listShards(
                of: worked.stream,
                cluster: cluster,
                group: group,
                deadline: .now + .seconds(60)
            )
        )
        recorder.append([.lineage(LineageEvent(time: recorder.now, shards: listing.lineage))])
        let converging = ContinuousClock.now
        let (checksums, divergence) = await converge(cluster: cluster, admin: admin, shards: listing.all)
        let convergedAfter = divergence == nil ? converging.duration(to: .now) : nil
        console.line(
            divergence.map { "replicas did not converge within 90 s: \($0)" }
                ?? "replicas converged after \(Seconds(converging.duration(to: .now)))"
        )
        for node in cluster.members {
            if let list = checksums[node.id] ?? nil {
                recorder.append([.checksums(ChecksumsEvent(time: recorder.now, node: node.name, shards: list))])
            }
        }
        let placement = await checkPlacement(cluster: cluster, admin: admin, recorder: recorder, within: .seconds(60))
        console.line("placement: \(placement)")

        let finalCounts = try await FinalRead(
            stream: worked.stream,
            cluster: cluster,
            recorder: recorder,
            group: group
        ).run(shards: listing.all, deadline: .now + .seconds(120))
        let churnFinal = try await readChurnStreams(churn, cluster: cluster, recorder: recorder, group: group)
        try await recorder.close()
        let history: History
        do {
            history = try HistoryReader.read(
                contentsOf: configuration.outDirectory.appendingPathComponent("history.jsonl")
            )
        } catch {
            throw .harness("cannot read back history.jsonl: \(error)")
        }
        return ChaosOutcome(
            verdict: Checker().check(history),
            faults: worked.report.injected.map(Nemesis.describe),
            unhealthy: worked.report.unhealthy,
            divergence: divergence,
            convergedAfter: convergedAfter,
            attemptedRecords: attempted,
            acknowledgedRecords: acknowledged,
            writeCalls: worked.writers.reduce(0) { $0 + $1.calls },
            consumerPages: worked.consumers.reduce(0) { $0 + $1.pages },
            consumerRecords: worked.consumers.reduce(0) { $0 + $1.records },
            finalRecords: finalCounts.values.reduce(0, +),
            historyEvents: history.events.count,
            churn: churn.map { ChaosOutcome.describe($0, finalRecords: churnFinal) },
            placement: placement
        )
    }

    /// Polls every node's checksums until all replicas agree, for up to 90 s; returns the last checksums
    /// (each with the node's voters for the group, from `/admin/status` right after) and, if they never
    /// agreed, the last difference.
    private func converge(
        cluster: any ChaosCluster,
        admin: AdminClient,
        shards: [String]
    ) async
        -> (checksums: [Int: [ShardChecksum]?], divergence: String?)
    {
        let deadline = ContinuousClock.now + .seconds(90)
        let stream = configuration.streamName
        var checksums: [Int: [ShardChecksum]?] = [:]
        var divergence: String? = "not checked"
        while ContinuousClock.now < deadline, !Task.isCancelled {
            for node in cluster.members {
                var list = await admin.checksums(at: node.api, streamName: stream)
                if list != nil, let status = await admin.status(at: node.api) {
                    list = list?.map { checksum in
                        var checksum = checksum
                        checksum.voters =
                            status.groups.first { $0.stream == stream && $0.shard == checksum.shard }?
                            .voters
                        return checksum
                    }
                }
                checksums[node.id] = list
            }
            divergence = ClusterHealth.divergence(checksums: checksums, ids: cluster.ids, shards: shards)
            if divergence == nil { break }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return (checksums, divergence)
    }

    /// Polls every node's `/admin/status` until the placement rules hold on all of them or `timeout` passes,
    /// records the last poll (one `placement` event per node that answered) for the checker, and says how it
    /// went in one line.
    private func checkPlacement(
        cluster: any ChaosCluster,
        admin: AdminClient,
        recorder: Recorder,
        within timeout: Duration
    ) async -> String {
        let started = ContinuousClock.now
        let deadline = started + timeout
        var reports: [PlacementEvent] = []
        var problems = Finding<Anomaly.Misplacement>()
        var silent: [String] = []
        repeat {
            reports = []
            silent = []
            for node in cluster.members {
                if let status = await admin.status(at: node.api) {
                    reports.append(status.placementEvent(name: node.name, time: recorder.now))
                } else {
                    silent.append(node.name)
                }
            }
            problems = Checker().checkPlacement(reports)
            if silent.isEmpty, problems.isEmpty { break }
            try? await Task.sleep(for: .milliseconds(250))
        } while ContinuousClock.now < deadline && !Task.isCancelled
        recorder.append(reports.map { .placement($0) })
        let groups = Set(reports.flatMap { $0.groups.map { "\($0.streamID)/\($0.shard)" } }).count
        let waited = Seconds(started.duration(to: .now))
        if silent.isEmpty, problems.isEmpty {
            return "held after \(waited): \(groups) shard groups on \(reports.count) nodes, voters agree"
        }
        return "\(problems.count) problems after \(waited)"
            + (silent.isEmpty ? "" : "; no /admin/status from \(silent.joined(separator: ", "))")
            + (problems.examples.first.map { "; first: \($0)" } ?? "")
    }

    /// The final read of every churn stream still standing, closed parents included; returns the records read.
    private func readChurnStreams(
        _ churn: StreamChurn.Report?,
        cluster: any ChaosCluster,
        recorder: Recorder,
        group: any EventLoopGroup
    ) async throws(ChaosError) -> Int {
        guard let churn else { return 0 }
        var total = 0
        for stream in churn.kept {
            let shards = try await StreamSetup.allShards(
                of: stream,
                cluster: cluster,
                group: group,
                deadline: .now + .seconds(60)
            )
            var read = FinalRead(stream: stream, cluster: cluster, recorder: recorder, group: group)
            read.isOtherStream = true
            total += try await read.run(shards: shards, deadline: .now + .seconds(60)).values.reduce(0, +)
        }
        return total
    }
}
