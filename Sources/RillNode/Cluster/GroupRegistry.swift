import RillCluster
import RillModel
import RillRaft
import RillReplication
import RillTransport
import Synchronization

/// Routes Raft traffic between this node's groups and the peer transport: outbound messages of every group
/// go to the transport by destination node, inbound ones to their group's inbox.
///
/// A message can arrive for a group this node has not opened yet (a stream created a moment ago, whose
/// catalog entry is still being applied here). It waits, a bounded number per group, until the group
/// registers; the registry asks the node to catch up with the catalog meanwhile.
final class GroupRegistry: Sendable {
    private let transport: PeerTransport?
    private let state = Mutex(State())
    /// Asked when a message names a group this node does not run; must not block.
    private let onUnknownGroup: @Sendable (RaftGroupID) -> Void
    /// Who leads each group as this node's replicas see it (`GroupPlan.onRoleChange`).
    let board: LeaderBoard

    private struct State {
        var drivers: [RaftGroupID: RaftGroupDriver] = [:]
        var waiting: [RaftGroupID: [Raft.Message]] = [:]
    }

    /// Messages kept per unknown group; past it the oldest go (Raft resends).
    static let waitingLimit = 256

    init(
        transport: PeerTransport?,
        board: LeaderBoard = LeaderBoard(),
        onUnknownGroup: @escaping @Sendable (RaftGroupID) -> Void
    ) {
        self.transport = transport
        self.board = board
        self.onUnknownGroup = onUnknownGroup
    }

    /// The send function a group's driver is built with.
    func sender(for group: RaftGroupID) -> @Sendable ([Raft.Message]) -> Void {
        guard let transport else { return { _ in } }
        return { messages in
            if messages.count == 1, let only = messages.first {
                transport.send([GroupMessage(group: group, message: only)], to: only.to)
                return
            }
            var byPeer: [NodeID: [GroupMessage]] = [:]
            for message in messages {
                byPeer[message.to, default: []].append(GroupMessage(group: group, message: message))
            }
            for (peer, batch) in byPeer { transport.send(batch, to: peer) }
        }
    }

    func register(_ driver: RaftGroupDriver) {
        let waiting = state.withLock { state -> [Raft.Message] in
            state.drivers[driver.group] = driver
            return state.waiting.removeValue(forKey: driver.group) ?? []
        }
        if !waiting.isEmpty { driver.enqueue(waiting) }
    }

    func unregister(_ group: RaftGroupID) {
        _ = state.withLock { $0.drivers.removeValue(forKey: group) }
        board.forget(group)
    }

    func driver(for group: RaftGroupID) -> RaftGroupDriver? {
        state.withLock { $0.drivers[group] }
    }

    /// Every registered group's driver (the metadata group's among them).
    func allDrivers() -> [RaftGroupDriver] {
        state.withLock { Array($0.drivers.values) }
    }

    /// Hands an inbound batch (any groups, one sender) to the groups' inboxes; called on an event loop.
    func deliver(_ messages: [GroupMessage]) {
        var byGroup: [RaftGroupID: [Raft.Message]] = [:]
        for message in messages { byGroup[message.group, default: []].append(message.message) }
        var unknown: [RaftGroupID] = []
        let targets = state.withLock { state -> [(RaftGroupDriver, [Raft.Message])] in
            var targets: [(RaftGroupDriver, [Raft.Message])] = []
            for (group, batch) in byGroup {
                if let driver = state.drivers[group] {
                    targets.append((driver, batch))
                } else {
                    if state.waiting[group] == nil { unknown.append(group) }
                    var queue = state.waiting[group, default: []] + batch
                    if queue.count > Self.waitingLimit { queue.removeFirst(queue.count - Self.waitingLimit) }
                    state.waiting[group] = queue
                }
            }
            return targets
        }
        for (driver, batch) in targets { driver.enqueue(batch) }
        for group in unknown { onUnknownGroup(group) }
    }

    /// Makes every resting group tick again (`RaftGroupDriver.wakeUp`); idle ones rest again at their next tick.
    /// Followers of a member that may be gone campaign within an election timeout unless it speaks first; leaders
    /// of a member that is back heartbeat until it answers.
    func wakeAll(_ news: MemberNews = .none) {
        for driver in allDrivers() { driver.enqueueWakeUp(news) }
    }

    /// Forgets messages waiting for a group that will never open here (its stream is gone).
    func discardWaiting(except keep: (RaftGroupID) -> Bool) {
        state.withLock { state in state.waiting = state.waiting.filter { keep($0.key) } }
    }
}
