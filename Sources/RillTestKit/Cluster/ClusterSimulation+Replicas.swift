import Foundation
import RillKinesis
import RillModel
import RillRaft

/// Starting and crashing nodes, applying committed entries, and the reconciler that opens and closes shard
/// copies exactly as `ReplicaPlan` decides.
extension ClusterSimulation.World {
    /// Starts (or restarts) a node: its metadata core from its disk, bootstrapped with the founders as voters
    /// (formation); the catalog is rebuilt as the core hands the committed entries out again, and the shard
    /// copies open as the rebuilt catalog places them.
    mutating func start(_ slot: Int) {
        let founders = Raft.Configuration(voters: Set(settings.founders.map { NodeID($0.id) }), learners: [])
        nodes[slot].up = true
        nodes[slot].catalog = Catalog()
        nodes[slot].groups = [:]
        open(.meta, on: slot, voters: founders, campaign: false)
        log("node \(nodes[slot].id) started")
    }

    /// A crash: open cores, the catalog and unanswered proposals are gone; synced disks stay.
    mutating func crash(_ slot: Int, reason: String) {
        nodes[slot].up = false
        nodes[slot].groups = [:]
        nodes[slot].catalog = Catalog()
        nodes[slot].reportedCommit = [:]
        stats.raft.crashes += 1
        for proposal in pending where proposal.slot == slot { abandon(proposal) }
        pending.removeAll { $0.slot == slot }
        log("node \(nodes[slot].id) \(reason)")
    }

    /// Opens `group` on `slot` from its disk; `voters` is the membership an empty log starts from.
    mutating func open(_ group: RaftGroupID, on slot: Int, voters: Raft.Configuration, campaign: Bool) {
        let disk = nodes[slot].disk(group)
        var core = Raft.Core(
            id: nodes[slot].nodeID,
            configuration: voters,
            hardState: disk.hardState,
            storage: disk.storage,
            options: settings.faults.options,
            random: &random
        )
        // The preferred leader of a new group campaigns at once rather than after a timeout (`GroupPlan`).
        if campaign && core.log.lastIndex == .zero { core.campaign() }
        nodes[slot].reportedCommit[group] = core.commitIndex
        nodes[slot].groups[group] = core
    }

    /// Applies one committed entry on `slot`; true when the catalog changed.
    mutating func apply(_ entry: LogEntry, of group: RaftGroupID, on slot: Int) throws(CheckFailure) -> Bool {
        let position = pending.firstIndex { $0.slot == slot && $0.group == group && $0.index == entry.index }
        let proposal = position.map { pending.remove(at: $0) }
        // An entry of another term at the proposal's index: the proposal was overwritten, the caller hears so.
        if let proposal, proposal.term != entry.term { abandon(proposal) }
        let mine = proposal.map { $0.term == entry.term } ?? false
        switch entry.kind {
        case .meta:
            guard let command = try? JSONDecoder().decode(CatalogCommand.self, from: Data(entry.payload)) else {
                throw CheckFailure("catalog", "node \(nodes[slot].id) cannot decode the meta entry at \(entry.index)")
            }
            let result = nodes[slot].catalog.apply(command, at: entry.index)
            if mine, let proposal { try answered(proposal, command: command, result: result, on: slot) }
            return true
        case .records:
            if mine {
                stats.acknowledged += 1
                acknowledged[group, default: []].append(entry)
                try checkers[group, default: Simulation.Checker()].acknowledge(entry)
            }
        case .seal:
            if mine, let proposal { sealed(proposal, at: entry.index) }
        case .noop, .config, .trim:
            break
        }
        return false
    }

    /// Makes the node's copies follow its catalog (the node's `reconcile`): opens every shard `ReplicaPlan`
    /// opens here with the voters it names (setting aside a copy from before a heal first), never opens an
    /// unplaced shard, and closes and deletes the copies of shards no longer held here.
    mutating func reconcile(_ slot: Int) {
        guard nodes[slot].up else { return }
        let me = nodes[slot].id
        var placed: Set<RaftGroupID> = [.meta]
        for stream in nodes[slot].streams {
            for shard in stream.shards {
                let group = RaftGroupID.shard(streamID: stream.id, shard: shard.id)
                switch ReplicaPlan.decide(shard, me: me, mode: .cluster) {
                case .open(let voters, let setAsideOlderCopy):
                    placed.insert(group)
                    guard nodes[slot].groups[group] == nil else { continue }
                    if setAsideOlderCopy && !nodes[slot].healedCopies.contains(group) {
                        // The copy from before the heal diverged: quarantined, and an empty one takes its place.
                        nodes[slot].disks[group] = Simulation.Disk()
                        nodes[slot].healedCopies.insert(group)
                        log("node \(me) sets aside its copy of \(group)")
                    }
                    let configuration = Raft.Configuration(voters: Set(voters.map { NodeID($0) }), learners: [])
                    open(group, on: slot, voters: configuration, campaign: voters.first == me)
                    log("node \(me) opens \(group) with voters \(voters)")
                case .notHeld, .unplaced:
                    continue
                }
            }
        }
        for group in nodes[slot].groups.keys.sorted() where !placed.contains(group) {
            // Moved away: the group's committed membership no longer counts this copy.
            nodes[slot].groups[group] = nil
            nodes[slot].disks[group] = nil
            nodes[slot].reportedCommit[group] = nil
            log("node \(me) drops its copy of \(group)")
        }
    }
}
