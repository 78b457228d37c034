import Foundation
import RillKinesis
import RillModel
import RillRaft

/// The controller on the metadata leader, as `Node.controlOnce` runs it: the decisions are `ControllerPlan`'s,
/// this does what the node's I/O does (proposals, and the `reconfigure` call to each moving shard's leader).
extension ClusterSimulation.World {
    /// A `Raft.ReconfigurationStep` is taken for a learner this close to the leader (the driver's constant).
    static let promotionLag: UInt64 = 64
    static let movesPerRound = 32

    /// The slot of the up node that leads `group` in the highest term, if any.
    func leader(of group: RaftGroupID) -> Int? {
        nodes.indices.filter { nodes[$0].up && nodes[$0].groups[group]?.role == .leader }
            .max { (nodes[$0].groups[group]?.term ?? .zero) < (nodes[$1].groups[group]?.term ?? .zero) }
    }

    /// One controller round on the metadata leader. Like the node, which awaits each proposal before its next
    /// decision, it proposes nothing while a proposal of an earlier round is still unanswered.
    mutating func controlOnce() throws(CheckFailure) {
        guard let slot = leader(of: .meta) else { return }
        let catalog = nodes[slot].catalog
        let busy = pending.contains { if case .controller = $0.purpose { true } else { false } }
        if !busy {
            var commands: [CatalogCommand] = []
            if catalog.clusterID == nil {
                let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
                commands.append(.initialize(clusterID: "cluster-\(seed)", iteratorKey: key))
            }
            let alive = nodes.filter(\.up).map(\.member)
            commands += ControllerPlan.commands(catalog: catalog, founders: settings.founders, alive: alive)
            for command in commands {
                try propose(command, on: slot, purpose: .controller)
                stats.controllerCommands += 1
                log("controller on node \(nodes[slot].id) proposes \(command)")
            }
        }
        reconfigureMetadataGroup(slot, catalog)
        if !busy { try driveShardMoves(catalog, controller: slot) }
    }

    /// Proposes a catalog command on `slot` (which leads the metadata group), JSON-encoded as the node does.
    mutating func propose(_ command: CatalogCommand, on slot: Int, purpose: Purpose) throws(CheckFailure) {
        guard var core = nodes[slot].groups[.meta] else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let payload = try? encoder.encode(command) else {
            throw CheckFailure("catalog", "cannot encode \(command)")
        }
        do {
            let index = try core.propose(kind: .meta, payload: Array(payload), timestampMillis: Int64(tick))
            pending.append(
                Pending(
                    slot: slot,
                    group: .meta,
                    index: index,
                    term: core.term,
                    purpose: purpose,
                    deadline: tick + Self.callTimeout
                )
            )
        } catch {
            // Refused before anything was written (not leader any more): the caller retries later.
            return
        }
        nodes[slot].groups[.meta] = core
    }

    /// Keeps the metadata group at the plan's voters and learners, one step per round.
    private mutating func reconfigureMetadataGroup(_ slot: Int, _ catalog: Catalog) {
        guard let core = nodes[slot].groups[.meta],
            let plan = ControllerPlan.metadataGroup(catalog, currentVoters: core.configuration.voters.map(\.rawValue))
        else { return }
        let target = Raft.Reconfiguration(
            voters: Set(plan.voters.map { NodeID($0) }),
            learners: Set(plan.learners.map { NodeID($0) })
        )
        _ = reconfigure(.meta, on: slot, toward: target)
    }

    /// Asks each moving shard's leader for its next step; a group that reached its replicas gets `finishMove`.
    private mutating func driveShardMoves(_ catalog: Catalog, controller: Int) throws(CheckFailure) {
        for move in ControllerPlan.shardMoves(catalog, limit: Self.movesPerRound) {
            let group = RaftGroupID.shard(streamID: move.stream.id, shard: move.shard.id)
            guard let leader = leader(of: group) else { continue }
            let target = Raft.Reconfiguration(voters: Set(move.voters.map { NodeID($0) }))
            guard reconfigure(group, on: leader, toward: target) else { continue }
            try propose(
                .finishMove(streamID: move.stream.id, shard: move.shard.index),
                on: controller,
                purpose: .controller
            )
            stats.controllerCommands += 1
            log("controller: \(group) reached \(move.voters)")
        }
    }

    /// The driver's `reconfigure(toward:)` on the leader at `slot`: true once the target is reached, else takes
    /// the next step (a single-server change, or handing leadership to a target voter) if none is pending.
    private mutating func reconfigure(_ group: RaftGroupID, on slot: Int, toward target: Raft.Reconfiguration) -> Bool {
        guard var core = nodes[slot].groups[group], core.role == .leader else { return false }
        if core.hasPendingConfigurationChange { return false }
        if target.isReached(by: core.configuration) { return true }
        guard let step = target.nextStep(leading: core, promotionLag: Self.promotionLag) else { return false }
        stats.moveSteps += 1
        log("node \(core.id) steps \(group) toward \(target.voters.sorted()): \(step)")
        if case .transferLeadership(let heir) = step {
            _ = try? core.transferLeadership(to: heir)
        } else if let change = step.change {
            _ = try? core.proposeConfigurationChange(change)
        }
        nodes[slot].groups[group] = core
        return false
    }
}
