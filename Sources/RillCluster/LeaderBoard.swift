import RillModel
import RillTransport
import Synchronization

/// Who leads each group in which term, as this process last saw it, readable without a hop to any group's
/// owner: what this node's own replicas report (`update`), and every leader gossip carries (`learn`; a
/// router's only source). And a way to stop waiting on a leader whose term this process has seen end.
///
/// Why: a call forwarded to a shard's leader used to wait out the whole call timeout (5 s) when that leader
/// was paused or cut off, though the shard's other replicas elected a new leader within a second. The wait
/// held the client's connection and the shard's writes with it (issue 22's outage targets). Now the call is
/// abandoned once the board sees a newer term without the old leader *and* gossip no longer sees the old
/// leader's node alive (`isAnswering`, `memberMayBeGone`). The answer stays InternalFailure (the outcome is
/// unknown: the old leader may have handed the entry on before it stopped), only sooner, so the client retries
/// against the new leader at once. A live old leader is waited for: after a leadership transfer (homecoming,
/// balancing) it answers for what it was doing within moments, and abandoning it turned a whole PutRecords
/// whose records were being committed into InternalFailure for every record.
package final class LeaderBoard: Sendable {
    /// One group as this process last saw it.
    package struct View: Sendable, Equatable {
        package var term: Term
        package var leader: NodeID?

        package init(term: Term, leader: NodeID?) {
            self.term = term
            self.leader = leader
        }

        /// Whether a call sent to `target` while this replica was at `term` has lost its leader: this replica
        /// has moved to a newer term that `target` does not lead. A newer term starts only after a majority
        /// stopped hearing from the old leader (pre-vote) or elected another, so the old leader can no longer
        /// answer for its term. The same term, or a newer one `target` leads, keeps the wait.
        package func hasMovedAway(from target: NodeID, since term: Term) -> Bool {
            self.term > term && leader != target
        }
    }

    private struct Watch {
        var target: NodeID
        var term: Term
        var onMove: @Sendable () -> Void
        /// The group moved away from `target` while gossip still saw it alive: it fires when gossip stops.
        var moved = false
    }

    private struct State {
        var views: [RaftGroupID: View] = [:]
        var watches: [RaftGroupID: [UInt64: Watch]] = [:]
        var nextWatch: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Whether gossip sees a node alive (not suspected, dead or gone): a call to it is then left to answer.
    private let isAnswering: @Sendable (NodeID) -> Bool

    /// - Parameter isAnswering: whether a node is alive to gossip (`Forwarder.board(watching:)`); the default
    ///   (nobody) abandons a call as soon as its group moves away (tests of the board alone).
    package init(isAnswering: @escaping @Sendable (NodeID) -> Bool = { _ in false }) {
        self.isAnswering = isAnswering
    }

    /// The group as this process last saw it; nil when nothing has reported on it (or it was forgotten).
    package func view(of group: RaftGroupID) -> View? {
        state.withLock { $0.views[group] }
    }

    /// Records what this node's replica of `group` sees now, and tells every watch on the group that has lost
    /// its leader (outside the lock).
    package func update(_ group: RaftGroupID, term: Term, leader: NodeID?) {
        record(group, View(term: term, leader: leader), onlyIfNewer: false)
    }

    /// Records a leader that gossip says leads `group` (`SWIM.LeadershipHint`): a router's only view, and a
    /// node's for groups it holds no replica of. Applied only when newer than what this board has, so a late
    /// hint never takes back what a replica here saw. Tells the watches that lost their leader.
    package func learn(_ group: RaftGroupID, term: Term, leader: NodeID) {
        record(group, View(term: term, leader: leader), onlyIfNewer: true)
    }

    private func record(_ group: RaftGroupID, _ view: View, onlyIfNewer: Bool) {
        let moved = state.withLock { state -> [@Sendable () -> Void] in
            if onlyIfNewer, let known = state.views[group], known.term >= view.term { return [] }
            state.views[group] = view
            guard var watches = state.watches[group] else { return [] }
            var fired: [@Sendable () -> Void] = []
            for (key, var watch) in watches where view.hasMovedAway(from: watch.target, since: watch.term) {
                if isAnswering(watch.target) {
                    watch.moved = true
                    watches[key] = watch
                } else {
                    fired.append(watch.onMove)
                    watches[key] = nil
                }
            }
            state.watches[group] = watches.isEmpty ? nil : watches
            return fired
        }
        for onMove in moved { onMove() }
    }

    /// Gossip stopped seeing `node` alive (suspected, declared dead, left, or restarted): every call to it
    /// whose group has moved away is abandoned now.
    package func memberMayBeGone(_ node: NodeID) {
        let moved = state.withLock { state -> [@Sendable () -> Void] in
            var fired: [@Sendable () -> Void] = []
            for (group, var watches) in state.watches {
                for (key, watch) in watches where watch.moved && watch.target == node {
                    fired.append(watch.onMove)
                    watches[key] = nil
                }
                state.watches[group] = watches.isEmpty ? nil : watches
            }
            return fired
        }
        for onMove in moved { onMove() }
    }

    /// This process reaches no other node (gossip sees none alive): no call it waits on can be answered, whatever
    /// the groups do (a cut-off node hears of no new term). Every watched call is abandoned now.
    package func abandonEveryCall() {
        let fired = state.withLock { state -> [@Sendable () -> Void] in
            let fired = state.watches.values.flatMap { $0.values.map(\.onMove) }
            state.watches = [:]
            return fired
        }
        for onMove in fired { onMove() }
    }

    /// Forgets `group` (its replica here closed): nothing will report on it any more. Its watches stay until
    /// their calls end; the call timeout still bounds them.
    package func forget(_ group: RaftGroupID) {
        state.withLock { _ = $0.views.removeValue(forKey: group) }
    }

    /// Runs `body`, a call to `target` as the leader of `group`, with a `RequestAbandonment` that fires when
    /// the board sees the group move to a newer term that `target` does not lead (`View.hasMovedAway`) and
    /// gossip does not see `target` alive, whichever comes last. When nothing fires it, the call timeout bounds
    /// the wait as before.
    package func abandoningIfLeaderMoves<T>(
        _ group: RaftGroupID,
        from target: NodeID,
        with abandonment: RequestAbandonment = RequestAbandonment(),
        _ body: (RequestAbandonment) async throws -> T
    ) async throws -> T {
        let key = state.withLock { state -> UInt64 in
            let key = state.nextWatch
            state.nextWatch &+= 1
            // Nothing known of the group yet (a router before gossip brought the new group's first hint): the
            // first leader heard of that is not `target` ends the wait. Right after a group's start that is
            // almost surely a successor; at worst a stale hint ends a call early, as indeterminate.
            state.watches[group, default: [:]][key] = Watch(
                target: target,
                term: state.views[group]?.term ?? Term(0),
                onMove: { abandonment.abandon() }
            )
            return key
        }
        defer {
            state.withLock { state in
                state.watches[group]?[key] = nil
                if state.watches[group]?.isEmpty == true { state.watches[group] = nil }
            }
        }
        return try await body(abandonment)
    }

    /// How many calls are being watched now (tests).
    package var watchCount: Int { state.withLock { $0.watches.values.reduce(0) { $0 + $1.count } } }
}
