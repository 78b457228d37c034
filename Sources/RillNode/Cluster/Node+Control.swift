import Foundation
import RillGossip
import RillKinesis
import RillModel
import RillRaft
import RillReplication

extension Node {
    /// A one-node cluster's first start: the catalog gets its UUID and iterator key, and this node as its
    /// only member.
    func initializeCatalog() async throws {
        if metadata.catalog.clusterID == nil {
            _ = try await metadata.propose(
                .initialize(clusterID: UUID().uuidString.lowercased(), iteratorKey: Self.randomKey()),
                stampMillis: clock.nowMillis()
            )
        }
        let members = [ClusterMember(id: me.rawValue, zone: configuration.zone.rawValue)]
        if metadata.catalog.members != members {
            _ = try await metadata.propose(.setMembers(members), stampMillis: clock.nowMillis())
        }
    }

    /// One round of the controller's duties, done only by the metadata leader: the catalog carries the
    /// cluster's UUID, iterator key and members; groups follow membership changes; shard leadership goes back to
    /// preferred replicas.
    func controlOnce() async {
        await endAbstentions()
        await moveLeadershipHome()
        guard let cluster, await metadata.driver.status.role == .leader else { return }
        do {
            if metadata.catalog.clusterID == nil {
                _ = try await metadata.propose(
                    .initialize(clusterID: cluster.clusterID, iteratorKey: Self.randomKey()),
                    stampMillis: clock.nowMillis()
                )
            }
            try await manageMembership(cluster)
        } catch {
            logger.debug("controller round did not finish", metadata: ["error": "\(error)"])
        }
    }

    /// Forgets that groups abstain once they have caught up: the damage markers of shard replicas, and the
    /// rejoining flag of a wiped node once every group it holds has caught up. Only replicas that hold a marker
    /// are asked, and every group only while the node rejoins: a round runs four times a second, and asking all
    /// of 1,000 idle replicas (a file lookup and a wake of each group) was a tenth of an idle node's CPU.
    func endAbstentions() async {
        guard let cluster else { return }
        for replica in allReplicas() where replica.hasAbstainMarker.load(ordering: .relaxed) {
            guard await !replica.driver.status.abstaining else { continue }
            try? FileManager.default.removeItem(atPath: replica.directory + "/" + ShardReplica.abstainMarker)
            replica.hasAbstainMarker.store(false, ordering: .relaxed)
            replica.driver.logger.info("a damaged replica caught up and votes again")
        }
        guard cluster.rejoining else { return }
        var anyAbstaining = await metadata.driver.status.abstaining
        for replica in allReplicas() where !anyAbstaining {
            anyAbstaining = await replica.driver.status.abstaining
        }
        guard !anyAbstaining else { return }
        // Every shard placed here must be open (and caught up) before the flag goes.
        let catalog = metadata.catalog
        guard catalog.clusterID != nil else { return }
        for stream in catalog.allStreams {
            for shard in stream.shards
            where holds(shard) && localReplica(streamID: stream.id, shard: shard.index) == nil {
                return
            }
        }
        do {
            try cluster.finishRejoining()
            logger.info("every group this node holds has caught up; it votes from now on")
        } catch {
            logger.error("could not record the end of the rejoin", metadata: ["error": "\(error)"])
        }
    }

    /// How long a preferred replica must have been caught up before leadership moves back to it.
    static let homecomingDelay: Duration = .seconds(10)

    /// Gives a shard led here back to its preferred replica (the first of its placement, which spreads
    /// leaders evenly over nodes) once that replica has been caught up and alive to gossip for
    /// `homecomingDelay`: after a node returns, its shards go home. One move per round, so a returning node is
    /// not flooded.
    func moveLeadershipHome() async {
        let now = ContinuousClock.now
        let catalog = metadata.catalog
        var preferred: [String: [UInt32: NodeID]] = [:]
        for stream in catalog.allStreams {
            for shard in stream.shards where shard.isOpen {
                if let first = shard.replicas?.first { preferred[stream.id, default: [:]][shard.index] = NodeID(first) }
            }
        }
        // Almost always empty: then a group that fails a check has no entry to drop, and the loop hashes no
        // group id for it (this runs four times a second over every replica).
        var pending = preferredCaughtUpSince.withLock { !$0.isEmpty }
        func forget(_ group: RaftGroupID) {
            guard pending else { return }
            _ = preferredCaughtUpSince.withLock { $0.removeValue(forKey: group) }
        }
        for replica in allReplicas() {
            let group = replica.driver.group
            // The leader board first (this node's replicas report their role to it): the driver is asked only
            // about a group led here away from home, not every group four times a second.
            guard let home = preferred[replica.streamID]?[replica.shard.index], home != me,
                registry.board.view(of: group)?.leader == me, await replica.driver.status.role == .leader
            else {
                forget(group)
                continue
            }
            // Caught up by the leader's books, and alive to gossip: a home cut off since its last append still
            // looks caught up while nothing new commits, and a transfer to it refuses writes until it times out
            // (a chaos run's partition of a returning node stalled two shards for a second each this way).
            guard cluster?.isAlive(home) == true, await replica.driver.isCaughtUp(home) else {
                forget(group)
                continue
            }
            pending = true
            let since = preferredCaughtUpSince.withLock { table in
                if let since = table[group] { return since }
                table[group] = now
                return now
            }
            guard since.duration(to: now) >= Self.homecomingDelay else { continue }
            _ = preferredCaughtUpSince.withLock { $0.removeValue(forKey: group) }
            let term = await replica.driver.status.term
            replica.driver.logger.info(
                "moving shard leadership back to its preferred replica",
                metadata: ["raft.term": "\(term)", "to": "\(home)"]
            )
            await replica.driver.transferLeadership(to: home)
            return
        }
    }

    /// Samples every group's status into the Raft gauges, and gossips the groups this node leads (routers
    /// send each request straight to the leader they learn of this way).
    func sampleRaftMetrics() async {
        var groups: Set<String> = ["meta"]
        var leading: [SWIM.LeadershipHint] = []
        let meta = await metadata.driver.status
        metrics.raft.record(group: "meta", meta)
        if meta.role == .leader { leading.append(SWIM.LeadershipHint(group: .meta, term: meta.term, leader: me)) }
        let names = Dictionary(
            metadata.catalog.allStreams.map { ($0.id, $0.name) },
            uniquingKeysWith: { first, _ in first }
        )
        var views: [PlacementAudit.GroupView] = []
        for replica in allReplicas() {
            let group = "\(names[replica.streamID] ?? replica.streamID)/\(replica.shard.name)"
            groups.insert(group)
            // A resting group's status is read without a hop to its executor (most of many idle shards rest).
            let status = await replica.driver.sampledStatus
            metrics.raft.record(group: group, status)
            if status.role == .leader {
                leading.append(SWIM.LeadershipHint(group: replica.driver.group, term: status.term, leader: me))
            }
            views.append(
                PlacementAudit.GroupView(
                    streamID: replica.streamID,
                    shard: replica.shard.index,
                    voters: status.configuration.voters.map(\.rawValue),
                    learners: status.configuration.learners.map(\.rawValue)
                )
            )
        }
        metrics.raft.keep(only: groups)
        cluster?.gossip.setLeadershipHints(leading)
        auditPlacement(views)
    }

    /// Checks the placement invariant over the catalog and the groups held here (`PlacementAudit`), as the
    /// sample just read them. A violation counts once it is seen in two audits in a row: a node's catalog may
    /// trail a move's first configuration change by a moment.
    func auditPlacement(_ views: [PlacementAudit.GroupView]) {
        guard cluster != nil else { return }
        let catalog = metadata.catalog
        let seen =
            PlacementAudit.check(catalog: catalog)
            + PlacementAudit.check(catalog: catalog, node: me.rawValue, groups: views, settled: false)
        let (lasting, new) = placementAudit.withLock {
            audit -> ([PlacementAudit.Violation], [PlacementAudit.Violation]) in
            let lasting = seen.filter { audit.previous.contains($0) }
            let new = lasting.filter { !audit.reported.contains($0) }
            audit.previous = seen
            audit.reported = lasting
            return (lasting, new)
        }
        metrics.cluster.placementAudited(violations: lasting.count)
        for violation in new {
            logger.critical("placement invariant violated", metadata: ["violation": "\(violation)"])
        }
    }

    static func randomKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in generator.next() }
    }
}
