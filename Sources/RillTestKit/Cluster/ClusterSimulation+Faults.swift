/// Crashes and restarts of whole nodes (every group on the node at once) and network faults, at the Raft
/// simulation's rates.
extension ClusterSimulation.World {
    mutating func injectFaults() {
        let faults = settings.faults
        if random.chance(faults.crashRate) {
            let slot = random.int(in: 0...(nodes.count - 1))
            if nodes[slot].up { crash(slot, reason: "crashed") }
        }
        for slot in nodes.indices where !nodes[slot].up && random.chance(faults.restartRate) {
            stats.restarts += 1
            start(slot)
        }
        if random.chance(faults.partitionRate) {
            stats.raft.partitions += 1
            let side = network.partition(random: &random)
            log("partition \(side)")
        }
        if random.chance(faults.linkCutRate) {
            let (a, b) = network.cutOneWay(random: &random)
            stats.raft.linkCuts += 1
            log("cut \(nodes[a].id)->\(nodes[b].id)")
        }
        if random.chance(faults.healRate) {
            network.heal()
            log("heal")
        }
    }
}
