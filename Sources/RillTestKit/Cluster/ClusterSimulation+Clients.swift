import RillKinesis
import RillModel
import RillRaft

/// The seeded client schedule: CreateStream from the first tick (so calls land before the controller has
/// recorded any members), puts through each shard's leader, and SplitShard/MergeShards as
/// `Node+Resharding.swift` does them (seal every parent in its log, then commit `.reshard` in the catalog).
extension ClusterSimulation.World {
    /// A SplitShard or MergeShards under way: parents are sealed one by one, then the catalog change commits.
    struct ReshardCall: Sendable {
        var number: Int
        var streamID: String
        var name: String
        var parents: [ShardMetadata]
        var children: [ReshardCommand.Child]
        var sealed: [ReshardCommand.Parent] = []
        /// Whether a seal or the catalog change is proposed and unanswered.
        var waiting = false
    }

    static let namespace = Namespace(account: "000000000000", region: "us-east-1")

    mutating func callAsClients() throws(CheckFailure) {
        if streamsCreated < settings.maxStreams && random.chance(settings.createRate) { try createStream() }
        if random.chance(settings.putRate) { put() }
        if reshard == nil && random.chance(settings.reshardRate) { startReshard() }
    }

    /// The catalog a client reads: the metadata leader's, else the most advanced one up.
    var clientCatalog: Catalog? {
        if let slot = leader(of: .meta) { return nodes[slot].catalog }
        return nodes.filter(\.up).max { $0.catalog.appliedIndex < $1.catalog.appliedIndex }?.catalog
    }

    // MARK: - CreateStream

    /// Proposed straight to the metadata leader, without the node's own `canPlace` check: the catalog's apply
    /// must refuse by itself while it has no members.
    private mutating func createStream() throws(CheckFailure) {
        guard let slot = leader(of: .meta) else { return }
        let number = streamsCreated
        let command = CreateStreamCommand(
            namespace: Self.namespace,
            name: "stream-\(number)",
            id: "sid-\(seed)-\(number)",
            shardCount: random.int(in: 1...4),
            mode: .provisioned,
            createdMillis: Int64(tick) * 100,
            epoch: UInt64(tick),
            tags: [:],
            maxRecordSizeKiB: 1024
        )
        try propose(.createStream(command), on: slot, purpose: .createStream)
        log("client creates \(command.name) with \(command.shardCount) shards on node \(nodes[slot].id)")
    }

    /// The proposer's node applied its own command: the caller's answer.
    mutating func answered(
        _ proposal: Pending,
        command: CatalogCommand,
        result: Result<Void, KinesisError>,
        on slot: Int
    ) throws(CheckFailure) {
        switch (proposal.purpose, command, result) {
        case (.createStream, .createStream(let create), .success):
            // Ours, unless an earlier attempt whose answer was lost created it (then this one says it exists).
            if create.name == "stream-\(streamsCreated)" {
                streamsCreated += 1
                stats.streams += 1
                stats.shards += create.shardCount
            }
        case (.createStream, .createStream, .failure(let error)):
            if error == Catalog.notPlaceable {
                stats.createsRefused += 1
                guard nodes[slot].catalog.members.isEmpty else {
                    throw CheckFailure(
                        "placement",
                        "CreateStream refused as not placeable with members \(nodes[slot].catalog.members)"
                    )
                }
            } else if error.code != .resourceInUse {
                throw CheckFailure("catalog", "CreateStream failed with \(error)")
            }
        case (.reshard(let number), _, let result):
            guard reshard?.number == number else { return }
            if case .success = result { stats.reshards += 1 } else { stats.reshardsAbandoned += 1 }
            finishReshard()
        default:
            break
        }
    }

    // MARK: - Puts

    /// One record into a random open shard, through the node that leads its group; acknowledged when that
    /// node applies it in the term it was proposed in.
    private mutating func put() {
        guard let catalog = clientCatalog else { return }
        let open = catalog.allStreams.sorted { $0.id < $1.id }.flatMap { stream in
            stream.openShards.map { (stream, $0) }
        }
        guard !open.isEmpty else { return }
        let (stream, shard) = open[random.int(in: 0...(open.count - 1))]
        let group = RaftGroupID.shard(streamID: stream.id, shard: shard.id)
        guard !sealing.contains(group), let slot = leader(of: group), var core = nodes[slot].groups[group] else {
            return
        }
        // The leader's own catalog must show the shard open, as the replica refuses writes once sealed.
        guard nodes[slot].catalog.stream(stream.name, in: Self.namespace)?.shard(shard.id)?.isOpen == true else {
            return
        }
        nextPayload += 1
        let payload = withUnsafeBytes(of: nextPayload.bigEndian) { Array($0) }
        guard let index = try? core.propose(kind: .records, payload: payload, timestampMillis: Int64(tick)) else {
            return
        }
        nodes[slot].groups[group] = core
        pending.append(
            Pending(
                slot: slot,
                group: group,
                index: index,
                term: core.term,
                purpose: .put,
                deadline: tick + Self.callTimeout
            )
        )
        stats.puts += 1
    }

    // MARK: - Resharding

    /// Picks a split of a random open shard at its middle, or a merge of two adjacent open shards.
    private mutating func startReshard() {
        guard let catalog = clientCatalog, catalog.canPlace else { return }
        let streams = catalog.allStreams.sorted { $0.id < $1.id }
        guard !streams.isEmpty else { return }
        let stream = streams[random.int(in: 0...(streams.count - 1))]
        let open = stream.openShards.sorted { $0.hashRange.start < $1.hashRange.start }
        guard !open.isEmpty else { return }
        let position = random.int(in: 0...(open.count - 1))
        let range = open[position].hashRange
        if open.count > 1 && (open.count >= 4 || random.chance(0.5)) {
            let (first, second) =
                position + 1 < open.count ? (open[position], open[position + 1]) : (open[position - 1], open[position])
            reshard = ReshardCall(
                number: reshardCalls,
                streamID: stream.id,
                name: stream.name,
                parents: [first, second],
                children: [.init(startingHashKey: first.startingHashKey, endingHashKey: second.endingHashKey)]
            )
        } else {
            let middle = range.start.rawValue + (range.end.rawValue - range.start.rawValue) / 2
            guard middle > range.start.rawValue + 1, middle < range.end.rawValue else { return }
            reshard = ReshardCall(
                number: reshardCalls,
                streamID: stream.id,
                name: stream.name,
                parents: [open[position]],
                children: [
                    .init(startingHashKey: range.start.description, endingHashKey: HashKey(middle - 1).description),
                    .init(startingHashKey: HashKey(middle).description, endingHashKey: range.end.description),
                ]
            )
        }
        reshardCalls += 1
        log("client reshards \(stream.name): parents \(reshard?.parents.map(\.index) ?? [])")
    }

    /// Seals the next parent through its leader, or commits the catalog change once all are sealed.
    /// Runs after the world heals too: a call under way finishes or fails, as a client's would.
    mutating func continueReshard() throws(CheckFailure) {
        guard var call = reshard, !call.waiting else { return }
        if call.sealed.count < call.parents.count {
            let parent = call.parents[call.sealed.count]
            let group = RaftGroupID.shard(streamID: call.streamID, shard: parent.id)
            guard let slot = leader(of: group), var core = nodes[slot].groups[group],
                let index = try? core.propose(kind: .seal, payload: [], timestampMillis: Int64(tick))
            else {
                abandonReshard()
                return
            }
            nodes[slot].groups[group] = core
            sealing.insert(group)
            pending.append(
                Pending(
                    slot: slot,
                    group: group,
                    index: index,
                    term: core.term,
                    purpose: .seal(call: call.number),
                    deadline: tick + Self.callTimeout
                )
            )
        } else {
            guard let slot = leader(of: .meta) else {
                abandonReshard()
                return
            }
            let epoch = max(UInt64(tick), (call.parents.map(\.epoch).max() ?? 0) + 1)
            let command = ReshardCommand(
                namespace: Self.namespace,
                name: call.name,
                parents: call.sealed,
                children: call.children,
                epoch: epoch,
                millis: Int64(tick) * 100
            )
            let before = pending.count
            try propose(.reshard(command), on: slot, purpose: .reshard(call: call.number))
            guard pending.count > before else {
                abandonReshard()
                return
            }
        }
        call.waiting = true
        reshard = call
    }

    /// A parent's seal committed at `index` on the node that proposed it.
    mutating func sealed(_ proposal: Pending, at index: LogIndex) {
        guard var call = reshard, case .seal(let number) = proposal.purpose, number == call.number,
            call.sealed.count < call.parents.count
        else { return }
        call.sealed.append(
            ReshardCommand.Parent(index: call.parents[call.sealed.count].index, sealIndex: index.rawValue)
        )
        call.waiting = false
        reshard = call
    }

    /// The caller heard nothing definite (crash, lost leadership, overwritten entry).
    mutating func abandon(_ proposal: Pending) {
        switch proposal.purpose {
        case .seal(let number), .reshard(let number): if reshard?.number == number { abandonReshard() }
        case .put, .createStream, .controller: break
        }
    }

    /// Gives up on the reshard: parents sealed but not closed in the catalog take writes again (the node
    /// reopens the parents it leads; see `Node+Resharding.swift`).
    private mutating func abandonReshard() {
        guard reshard != nil else { return }
        stats.reshardsAbandoned += 1
        finishReshard()
    }

    private mutating func finishReshard() {
        if let call = reshard {
            for parent in call.parents { sealing.remove(.shard(streamID: call.streamID, shard: parent.id)) }
        }
        reshard = nil
    }
}
