import Foundation
import Logging
import RillCluster
import RillKinesis
import RillModel

/// On-demand scaling's rounds on this node: the decisions are `OnDemandScaling`'s (held by `OnDemandController`);
/// this gathers the figures, carries the decisions out as reshards and answers peers' `writeTotals` calls. The
/// node owns one and runs `round()` every `OnDemandController.interval`.
struct OnDemandRounds: Sendable {
    let me: NodeID
    /// False for a one-node cluster, which scales its own streams.
    let isCluster: Bool
    let metadata: MetadataStore
    let onDemand: OnDemandController
    /// What this node wrote to on-demand shards (`RecordsService.onDemandWrites`).
    let writes: OnDemandWrites
    /// Carries out a decision as a reshard.
    let streams: StreamsService
    /// Asks peers for their totals; nil for a one-node cluster.
    let forwarder: Forwarder?
    let clock: any WallClock
    let logger: Logger

    /// One round of on-demand scaling, on the metadata leader (or a one-node cluster): gathers every node's
    /// write totals of on-demand shards (`ShardWriteMeter`), lets `OnDemandScaling` decide, and carries the
    /// decisions out as reshards. Every decision is logged with the figures that made it and counted.
    func round() async {
        if isCluster, await metadata.driver.status.role != .leader {
            onDemand.reset()
            return
        }
        let catalog = metadata.catalog
        let streams = catalog.allStreams.filter { $0.mode == .onDemand }
        guard !streams.isEmpty else { return }
        var reports = [me.rawValue: writes.totals(keeping: Set(streams.map(\.id)))]
        var complete = true
        let peers = catalog.members.map(\.id).filter { $0 != me.rawValue }
        await withTaskGroup(of: (UInt64, [ShardWriteMeter.Totals]?).self) { group in
            for peer in peers {
                group.addTask { (peer, await self.writeTotals(of: NodeID(peer))) }
            }
            for await (peer, totals) in group {
                if let totals { reports[peer] = totals } else { complete = false }
            }
        }
        // Only settled streams are scaled: one being created, deleted or resharded has shards about to change.
        var open: [String: OnDemandScaling.Stream] = [:]
        for stream in streams where stream.status == .active {
            open[stream.id] = OnDemandScaling.Stream(
                shards: stream.openShards.map { .init(index: $0.index, name: $0.id.name, range: $0.hashRange) },
                warmThroughputMiBps: stream.warmThroughputMiBps
            )
        }
        let events = onDemand.round(reports: reports, complete: complete, streams: open, wallMillis: clock.nowMillis())
        for event in events {
            guard let stream = catalog.allStreams.first(where: { $0.id == event.streamID }) else { continue }
            await carryOut(event, on: stream)
        }
    }

    private func carryOut(_ event: OnDemandScaling.Event, on stream: StreamMetadata) async {
        let rates = event.traffic.map { shard in
            "\(shard.shardID)=\(Int(shard.recordsPerSecond)) rec/s \(Int(shard.bytesPerSecond)) B/s"
        }
        var fields: Logger.Metadata = ["rill.stream": "\(stream.name)", "traffic": "\(rates.joined(separator: ", "))"]
        switch event.decision {
        case .split(let shard, let key, let utilization):
            fields["shard"] = "\(shard)"
            fields["newStartingHashKey"] = "\(key)"
            fields["utilization"] = "\(Self.percent(utilization))"
            logger.notice("on-demand stream: splitting a hot shard where its load is", metadata: fields)
            onDemand.splits.increment()
        case .merge(let lower, let upper, let utilization):
            fields["shards"] = "\(lower),\(upper)"
            fields["utilization"] = "\(Self.percent(utilization))"
            logger.notice("on-demand stream: merging two cold neighbours", metadata: fields)
            onDemand.merges.increment()
        }
        do {
            try await streams.scale(stream, event.decision)
        } catch {
            fields["error"] = "\(error)"
            logger.warning("on-demand scaling step failed; a later round decides again", metadata: fields)
        }
    }

    /// A peer's write totals, or nil when it did not answer in time.
    private func writeTotals(of peer: NodeID) async -> [ShardWriteMeter.Totals]? {
        do {
            guard let forwarder else { throw KinesisError.internalFailure("no peer transport") }
            guard
                case .answered(.writeTotals(let totals)) = try await forwarder.send(
                    .writeTotals,
                    to: peer,
                    timeout: .seconds(1)
                )
            else { return nil }
            return totals
        } catch {
            logger.debug("no write totals from a node this round", metadata: ["peer": "\(peer)", "error": "\(error)"])
            return nil
        }
    }

    /// What this node answers to `PeerCall.writeTotals`.
    func answerWriteTotals() -> PeerAnswer {
        let onDemandStreams = metadata.catalog.allStreams.filter { $0.mode == .onDemand }.map(\.id)
        return .writeTotals(writes.totals(keeping: Set(onDemandStreams)))
    }

    private static func percent(_ utilization: Double) -> String { "\(Int((utilization * 100).rounded()))%" }
}
