import RillCluster
import RillModel
import RillReplication
import RillTransport

extension Node {
    /// How long the rest check waits for a node's answer: well inside the period, so rounds never overlap.
    static let restCheckTimeout: Duration = .milliseconds(500)

    /// One round of the rest check (`RestCheck`): asks each other member's node about the groups that rest here
    /// as leader, and each leader's node about the groups that rest here as its followers, and wakes the ones
    /// it disagrees about. Whatever was sent to a node that does not answer (unreachable, too slow, or an older
    /// version that cannot read the call) wakes too: a leader's heartbeat round is what every resting leader did
    /// each second before, and a follower ticks again and campaigns unless its leader speaks.
    func checkRestingGroups() async {
        guard let cluster else { return }
        var resting: [(RaftGroupID, RaftGroupDriver.Status)] = []
        var byGroup: [RaftGroupID: RaftGroupDriver] = [:]
        for driver in registry.allDrivers() {
            guard let status = driver.restingStatus else { continue }
            resting.append((driver.group, status))
            byGroup[driver.group] = driver
        }
        let calls = RestCheck.calls(resting: resting, me: me)
        guard !calls.isEmpty else { return }
        let transport = cluster.transport
        let wake = await withTaskGroup(of: [RaftGroupID].self) { tasks in
            for (peer, groups) in calls {
                tasks.addTask {
                    let payload = PeerCall.restCheck(groups).encoded()
                    guard let bytes = try? await transport.request(payload, to: peer, timeout: Self.restCheckTimeout),
                        case .restCheck(let positions)? = try? PeerAnswer(decoding: bytes)
                    else { return groups.map(\.group) }
                    return positions.compactMap { Int($0) < groups.count ? groups[Int($0)].group : nil }
                }
            }
            var wake: Set<RaftGroupID> = []
            for await groups in tasks { wake.formUnion(groups) }
            return wake
        }
        metrics.cluster.restChecked.increment(by: resting.count)
        metrics.cluster.restWoken.increment(by: wake.count)
        for group in wake { byGroup[group]?.enqueueWakeUp() }
    }
}
