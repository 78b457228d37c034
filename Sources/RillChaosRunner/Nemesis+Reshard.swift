import RillChaos
import RillKinesis

extension FaultKind {
    /// SplitShard, MergeShards or UpdateShardCount of the stream under test.
    static let reshard = FaultKind(rawValue: "reshard")
}

extension Nemesis {
    /// Open shards the reshard nemesis keeps the stream between: enough for the writers to spread, few
    /// enough that UpdateShardCount and the final read stay quick.
    static let openShardRange = 2...8

    /// Reshapes the stream under test while the workload writes to it, then lists its shards again so the
    /// health wait and later faults see the children. Recorded as a fault from the first call to the
    /// answer, with what was asked and how it went.
    func reshard(_ move: FaultPlan.Reshard) async -> Injected {
        let start = recorder.now
        var caller = KinesisCaller(group: group)
        let open = await listOpen()
        let request = Self.request(for: move, open: open)
        recorder.fault(.reshard, .start, target: stream, detail: request.description)
        let outcome = await call(request, caller: &caller)
        let healed = ContinuousClock.now
        if let listed = try? await StreamSetup.listShards(
            of: stream,
            cluster: cluster,
            group: group,
            deadline: .now + .seconds(30)
        ) {
            shards.update(StreamShards.Listing(listed))
        }
        await caller.close()
        let detail = "\(request): \(outcome)"
        recorder.fault(.reshard, .end, target: stream, detail: outcome)
        return Injected(
            kind: .reshard,
            target: stream,
            detail: detail,
            start: start,
            down: .zero,
            ready: .zero,
            healedAt: healed
        )
    }

    /// One reshard call, chosen from the move and the open shards so the stream stays within
    /// `openShardRange`: a split of a stream at the top merges instead, and the other way round.
    enum Request: Sendable, Equatable, CustomStringConvertible {
        case split(shard: String, at: String)
        case merge(String, String)
        case updateShardCount(Int)

        var description: String {
            switch self {
            case .split(let shard, let at): "SplitShard \(shard) at \(at)"
            case .merge(let first, let second): "MergeShards \(first) + \(second)"
            case .updateShardCount(let target): "UpdateShardCount to \(target)"
            }
        }
    }

    static func request(for move: FaultPlan.Reshard, open: [ShardRanges.Shard]) -> Request {
        let count = open.count
        let pairs = ShardRanges.adjacentPairs(open)
        let splittable = open.filter { ShardRanges.middle(of: $0) != nil }
        func split(_ pick: Int) -> Request? {
            guard count < openShardRange.upperBound, !splittable.isEmpty else { return nil }
            let shard = splittable[pick % splittable.count]
            return ShardRanges.middle(of: shard).map { .split(shard: shard.id, at: $0) }
        }
        func merge(_ pick: Int) -> Request? {
            guard count > openShardRange.lowerBound, !pairs.isEmpty else { return nil }
            let pair = pairs[pick % pairs.count]
            return .merge(pair.0.id, pair.1.id)
        }
        switch move {
        case .split(let pick):
            return split(pick) ?? merge(pick) ?? .updateShardCount(max(count, openShardRange.lowerBound))
        case .merge(let pick):
            return merge(pick) ?? split(pick) ?? .updateShardCount(max(count, openShardRange.lowerBound))
        case .updateShardCount(let up):
            // Kinesis takes half to twice the open count.
            let doubled = count * 2
            let halved = (count + 1) / 2
            if up && doubled <= openShardRange.upperBound || halved < openShardRange.lowerBound {
                return .updateShardCount(min(doubled, openShardRange.upperBound))
            }
            return .updateShardCount(halved)
        }
    }

    private func listOpen() async -> [ShardRanges.Shard] {
        let listed = try? await StreamSetup.listShards(
            of: stream,
            cluster: cluster,
            group: group,
            deadline: .now + .seconds(30)
        )
        return listed.map(ShardRanges.open) ?? shards.current.open
    }

    /// Calls through any reachable node until an answer that is not "not now" (the stream still updating
    /// from the last reshard, a leader being elected), for up to 30 s; the outcome in words.
    private func call(_ request: Request, caller: inout KinesisCaller) async -> String {
        let giveUp = ContinuousClock.now + .seconds(30)
        var retried = 0
        var last = "no attempt"
        while ContinuousClock.now < giveUp, !Task.isCancelled {
            guard let address = await cluster.reachable().randomElement() else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            let result = await send(request, to: address, caller: &caller)
            switch result {
            case .ok:
                return retried == 0 ? "ok" : "ok after \(retried) retries"
            case .error(let code, _) where retried > 0 && code == KinesisErrorCode.invalidArgument.rawValue:
                // An earlier attempt whose answer was lost may have done it: the shard is closed now.
                return "\(result.summary) after \(retried) retries (an earlier attempt may have done it)"
            case .error(let code, _) where Self.notNow.contains(code):
                last = result.summary
            case .failed:
                last = result.summary
            case .error:
                return "refused: \(result.summary)"
            }
            retried += 1
            try? await Task.sleep(for: .milliseconds(200))
        }
        return "gave up after 30 s: \(last)"
    }

    private static let notNow: Set<String> = [
        KinesisErrorCode.limitExceeded.rawValue, KinesisErrorCode.resourceInUse.rawValue,
        KinesisErrorCode.serviceUnavailable.rawValue, KinesisErrorCode.internalFailure.rawValue, "InternalFailure",
    ]

    private func send(_ request: Request, to address: APIAddress, caller: inout KinesisCaller) async -> KinesisResult {
        let stream = self.stream
        switch request {
        case .split(let shard, let at):
            return await caller.call(.splitShard, at: address, timeout: .seconds(10)) { writer in
                writer.key("StreamName")
                writer.string(stream)
                writer.key("ShardToSplit")
                writer.string(shard)
                writer.key("NewStartingHashKey")
                writer.string(at)
            }
        case .merge(let first, let second):
            return await caller.call(.mergeShards, at: address, timeout: .seconds(10)) { writer in
                writer.key("StreamName")
                writer.string(stream)
                writer.key("ShardToMerge")
                writer.string(first)
                writer.key("AdjacentShardToMerge")
                writer.string(second)
            }
        case .updateShardCount(let target):
            return await caller.call(.updateShardCount, at: address, timeout: .seconds(10)) { writer in
                writer.key("StreamName")
                writer.string(stream)
                writer.key("TargetShardCount")
                writer.int(target)
                writer.key("ScalingType")
                writer.string("UNIFORM_SCALING")
            }
        }
    }
}
