import RillKinesis
import Testing

@Suite struct LeaseTableTests {
    func table(_ shards: [(String, [String])]) -> LeaseTable {
        var table = LeaseTable()
        table.apply(.syncShards(shards.map { .init(shardID: $0.0, parents: $0.1) }, atMillis: 0))
        return table
    }

    @Test("a lease is taken once per token; a fenced-out worker can neither renew nor checkpoint")
    func fencing() throws {
        var leases = table([("s0", [])])
        #expect(
            try leases.apply(.take(shardID: "s0", worker: "a", expectedToken: 0, atMillis: 0, durationMillis: 10_000))
                .get()?.token == 1
        )
        // b read the lease at token 0 too: its take loses the race.
        #expect(
            leases.apply(.take(shardID: "s0", worker: "b", expectedToken: 0, atMillis: 1, durationMillis: 10_000))
                == .failure(.tokenMismatch(current: 1))
        )
        #expect(throws: Never.self) {
            try leases.apply(
                .checkpoint(shardID: "s0", worker: "a", token: 1, .at(sequenceNumber: "100", subSequence: 0))
            ).get()
        }
        // a pauses past its expiry; b takes the lease over and checkpoints.
        _ = try leases.apply(
            .take(shardID: "s0", worker: "b", expectedToken: 1, atMillis: 20_000, durationMillis: 10_000)
        ).get()
        _ = try leases.apply(
            .checkpoint(shardID: "s0", worker: "b", token: 2, .at(sequenceNumber: "200", subSequence: 0))
        ).get()
        // a wakes up and tries to write its old progress: refused, b's checkpoint stands.
        #expect(
            leases.apply(.checkpoint(shardID: "s0", worker: "a", token: 1, .at(sequenceNumber: "150", subSequence: 0)))
                == .failure(.notOwner(owner: "b"))
        )
        #expect(
            leases.apply(.renew(shardID: "s0", worker: "a", token: 1, atMillis: 20_001, durationMillis: 10_000))
                == .failure(.notOwner(owner: "b"))
        )
        #expect(leases.leases["s0"]?.checkpoint == .at(sequenceNumber: "200", subSequence: 0))
        // Checkpoints only move forward, sub-sequence numbers included.
        #expect(
            leases.apply(.checkpoint(shardID: "s0", worker: "b", token: 2, .at(sequenceNumber: "99", subSequence: 0)))
                != .success(nil)
        )
        _ = try leases.apply(
            .checkpoint(shardID: "s0", worker: "b", token: 2, .at(sequenceNumber: "200", subSequence: 3))
        ).get()
        // A late renewal of an expired lease is refused: someone may already have been entitled to it.
        #expect(
            leases.apply(.renew(shardID: "s0", worker: "b", token: 2, atMillis: 31_000, durationMillis: 10_000))
                == .failure(.expired)
        )
    }

    @Test("children of a split or merge are leased only after every parent reached SHARD_END")
    func parentsFirst() throws {
        var leases = table([("p0", []), ("p1", []), ("c", ["p0", "p1"])])
        #expect(leases.workable().map(\.shardID) == ["p0", "p1"])
        #expect(
            leases.apply(.take(shardID: "c", worker: "a", expectedToken: 0, atMillis: 0, durationMillis: 1))
                == .failure(.parentsUnfinished(["p0", "p1"]))
        )
        for parent in ["p0", "p1"] {
            _ = try leases.apply(
                .take(shardID: parent, worker: "a", expectedToken: 0, atMillis: 0, durationMillis: 1_000)
            ).get()
            _ = try leases.apply(.checkpoint(shardID: parent, worker: "a", token: 1, .shardEnd)).get()
        }
        #expect(leases.workable().map(\.shardID) == ["c"])
        // Parents trimmed away count as finished.
        leases.apply(.syncShards([.init(shardID: "c", parents: ["p0", "p1"])], atMillis: 0))
        #expect(leases.unfinishedParents(of: try #require(leases.leases["c"])).isEmpty)
    }

    @Test("checkpoints order by sequence number as a 128-bit decimal, then sub-sequence")
    func checkpointOrder() {
        #expect(Checkpoint.initial < .at(sequenceNumber: "1", subSequence: 0))
        #expect(Checkpoint.at(sequenceNumber: "9", subSequence: 5) < .at(sequenceNumber: "10", subSequence: 0))
        #expect(Checkpoint.at(sequenceNumber: "10", subSequence: 1) < .at(sequenceNumber: "10", subSequence: 2))
        #expect(Checkpoint.at(sequenceNumber: "99999999999999999999999999999999999999", subSequence: 0) < .shardEnd)
    }

    /// Workers that take, renew, checkpoint, pause, crash and return, over shards that split and merge; the
    /// table must never accept a write from a worker that lost its lease, never start a child early, and
    /// settle on a fair spread once faults stop.
    @Test(
        "seeded simulation: fencing, parent order and balance under crashes, pauses and resharding",
        arguments: 0..<200
    )
    func simulation(seed: Int) throws {
        var random = SplitMix(seed: UInt64(seed))
        let duration: Int64 = 10_000
        var next = 4
        var leases = table((0..<4).map { ("s\($0)", []) })
        var shards = Set((0..<4).map { "s\($0)" })
        let workers = (0..<(2 + random.below(4))).map { "w\($0)" }
        // What each worker believes it holds: shard -> token. Beliefs go stale when a worker pauses.
        var beliefs: [String: [String: UInt64]] = Dictionary(uniqueKeysWithValues: workers.map { ($0, [:]) })
        var down: [String: Int64] = [:]  // worker -> time it comes back
        var now: Int64 = 0
        for step in 0..<600 {
            now += Int64(500 + random.below(1_500))
            let faults = step < 400
            for worker in workers {
                if let back = down[worker] {
                    guard now >= back else { continue }
                    down[worker] = nil
                }
                if faults, random.below(100) < 2 {
                    // Crash (beliefs lost) or pause (beliefs kept, stale when it returns).
                    if random.below(2) == 0 { beliefs[worker] = [:] }
                    down[worker] = now + Int64(random.below(40_000))
                    continue
                }
                for (shard, token) in beliefs[worker]! {
                    // Work: advance the checkpoint, sometimes finish the shard; a refusal means the lease is lost.
                    let progress: Checkpoint =
                        random.below(20) == 0
                        ? .shardEnd : .at(sequenceNumber: String(step * 100 + random.below(100)), subSequence: 0)
                    let before = leases.leases[shard]
                    let outcome = leases.apply(.checkpoint(shardID: shard, worker: worker, token: token, progress))
                    if case .success = outcome {
                        #expect(
                            before?.owner == worker && before?.token == token,
                            "seed \(seed): write from a fenced-out worker"
                        )
                    } else {
                        beliefs[worker]![shard] = nil
                        continue
                    }
                    if progress == .shardEnd {
                        beliefs[worker]![shard] = nil
                        _ = leases.apply(.release(shardID: shard, worker: worker, token: token))
                        continue
                    }
                    if case .failure = leases.apply(
                        .renew(shardID: shard, worker: worker, token: token, atMillis: now, durationMillis: duration)
                    ) {
                        beliefs[worker]![shard] = nil
                    }
                }
                let order = { (candidates: [Lease]) in candidates.sorted { _, _ in random.below(2) == 0 } }
                for take in LeaseBalancer.plan(leases, worker: worker, atMillis: now, ordering: order) {
                    let lease = try #require(leases.leases[take.shardID])
                    #expect(
                        leases.unfinishedParents(of: lease).isEmpty,
                        "seed \(seed): planned a child before its parents"
                    )
                    if case .success(let taken?) = leases.apply(
                        .take(
                            shardID: take.shardID,
                            worker: worker,
                            expectedToken: take.expectedToken,
                            atMillis: now,
                            durationMillis: duration
                        )
                    ) {
                        beliefs[worker]![take.shardID] = taken.token
                    }
                }
            }
            // Finished shards get children: a split of one, or a merge of two finished neighbours.
            let finished = shards.filter { leases.leases[$0]?.checkpoint == .shardEnd }.sorted()
            if faults, let parent = finished.first, random.below(4) == 0, shards.count < 12 {
                var lineage = shards.subtracting([parent]).map {
                    LeaseCommand.ShardLineage(shardID: $0, parents: leases.leases[$0]!.parents)
                }
                lineage.append(.init(shardID: parent, parents: []))
                if finished.count >= 2, random.below(2) == 0 {
                    lineage.append(.init(shardID: "s\(next)", parents: [finished[0], finished[1]]))
                    next += 1
                } else {
                    for _ in 0..<2 {
                        lineage.append(.init(shardID: "s\(next)", parents: [parent]))
                        next += 1
                    }
                }
                // Trim finished shards whose children exist, as retention would.
                let trimmed = Set(finished.dropFirst(2).filter { _ in random.below(3) == 0 })
                lineage.removeAll { trimmed.contains($0.shardID) }
                leases.apply(.syncShards(lineage, atMillis: now))
                shards = Set(lineage.map(\.shardID))
            }
        }
        // After the faults: every workable lease held, spread at most one apart.
        let workable = leases.workable()
        var held: [String: Int] = Dictionary(uniqueKeysWithValues: workers.map { ($0, 0) })
        for lease in workable {
            #expect(lease.isHeld(atMillis: now), "seed \(seed): \(lease.shardID) unowned after the cluster settled")
            if let owner = lease.owner { held[owner, default: 0] += 1 }
        }
        if workable.count >= workers.count {
            #expect((held.values.max() ?? 0) - (held.values.min() ?? 0) <= 1, "seed \(seed): unbalanced \(held)")
        }
    }
}

/// SplitMix64: small, seedable, the same on every platform.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
