import RillAPI
import RillKinesis
import RillModel
import RillRouting

extension Forwarder {
    /// How long records refused as sealed wait for a shard map that shows the refusing shards closed
    /// (`SealedRouting`), as a node waits for its own catalog (`RecordsService.sealSettleLimit`).
    static let sealSettleLimit: Duration = .seconds(2)

    /// The first map `freshMap` gives that shows none of `refused` open (`SealedRouting`), or the last one
    /// fetched once `sealSettleLimit` has passed. A reshard commits its catalog change a moment after it sealed
    /// the parents, so the first fetch often still shows a refusing parent open.
    package func settledMap(
        closing refused: Set<ShardID>,
        _ freshMap: @Sendable () async throws -> ShardMap
    ) async throws -> ShardMap {
        let started = ContinuousClock.now
        var pause = Duration.milliseconds(5)
        while true {
            let map = try await freshMap()
            let waited = started.duration(to: .now)
            switch SealedRouting.step(map: map, refused: refused, waited: waited, limit: Self.sealSettleLimit) {
            case .route: return map
            case .fetchAgain:
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(50))
            }
        }
    }

    /// Sends the records at `slots` of a PutRecords again, split by the current shard map: their shard's leader
    /// refused them as sealed, or as spanning the children of a split led by different nodes
    /// (`ForwardedAppend`), so nothing of them was written and the map they were split by is older than a
    /// reshard. The first round waits for a map that shows the shards in `refused` closed (`settledMap`); a
    /// node may refuse again while its own catalog trails the map (it routes by its own), so refused records go
    /// again, after a pause, with a map fetched again, until `sealSettleLimit` has passed. Their answers (or
    /// failures) go into `merge` at their slots. Without `freshMap`, or still refused at the limit, they fail
    /// with InternalFailure, as a node fails records whose shards keep closing. Before, one round: records the
    /// refusing node sent back a second time failed.
    func routeAgain(
        _ slots: [Int],
        refused: Set<ShardID>,
        of request: APIRequest,
        body: PutRecordsBody,
        streamID: String,
        _ freshMap: (@Sendable () async throws -> ShardMap)?,
        _ merge: inout PutRecordsMerge
    ) async {
        var pending = slots.sorted()
        guard let freshMap else {
            merge.fail(pending, .internalFailure("shards kept closing while records were routed"))
            return
        }
        let deadline = ContinuousClock.now.advanced(by: Self.sealSettleLimit)
        var refused = refused
        var backoff = ForwardBackoff()
        var round = 0
        while !pending.isEmpty {
            do {
                let map = round == 0 ? try await settledMap(closing: refused, freshMap) : try await freshMap()
                let keys = pending.compactMap { body.hashKeys[$0] }
                guard keys.count == pending.count else {
                    merge.fail(pending, .internalFailure("records could not be routed again"))
                    return
                }
                let split = try PutRecordsSplit(hashKeys: keys, map: map)
                let parts = split.parts.map { part in (shard: part.shard, slots: part.slots.map { pending[$0] }) }
                let refusal = await send(parts, of: request, body: body, streamID: streamID, into: &merge)
                pending = refusal.slots.sorted()
                refused = refusal.shards
            } catch {
                merge.fail(pending, error as? KinesisError ?? .internalFailure())
                return
            }
            round += 1
            guard !pending.isEmpty else { return }
            guard ContinuousClock.now < deadline else {
                merge.fail(pending, .internalFailure("shards kept closing while records were routed"))
                return
            }
            do {
                try await Task.sleep(for: backoff.pause(after: nil))
            } catch {
                merge.fail(pending, .internalFailure("the call was cancelled while its records were routed again"))
                return
            }
        }
    }
}
