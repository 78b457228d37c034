import RillModel
import RillRaft
import Synchronization

/// Resting (ARCHITECTURE "Data plane transport": idle groups rest). An idle group stops ticking, so a
/// node hosting hundreds of idle shards sends no heartbeats for them. Withholding ticks never affects safety,
/// only liveness, so every event that may need the group awake wakes it.
extension RaftGroupDriver {
    /// A woken group ticks this often before it may rest again: long enough for a heartbeat round, whose
    /// answers tell a leader about a follower that lost its disk while the group rested.
    static let minimumAwakeTicks = 3
    /// A resting leader that nudges itself (`nudgesWhileResting`) still wakes this often (on a grid shared by all
    /// groups, `nextNudge`) for one heartbeat round, so that nothing it cannot hear about (a lost answer, a
    /// follower that missed the gossip) leaves a group stuck for longer. A node's groups do not: the node's rest
    /// check (`RestCheck`) wakes only the leaders whose members disagree, on the same period.
    static let leaderNudge: Duration = .seconds(1)
    /// The first instant after `now` on the grid of whole `period`s from `origin`: however long ago each
    /// leader began to rest, all that rest now wake at the same instant, at most one period from now. The grid
    /// starts at the clock's origin, shared by every group of the process, so resting leaders wake together,
    /// their heartbeat rounds coincide and the transport sends each round to a peer as one coalesced frame
    /// (`HeartbeatCoalescer`) instead of one frame per group at scattered times.
    static func nextNudge(after now: Duration, origin: Duration, period: Duration) -> Duration {
        precondition(period > .zero, "a nudge grid needs a positive period")
        guard now >= origin else { return origin }
        var next = origin + period * Int64((now - origin) / period)
        // The division is in floating point: step over a boundary it rounded to either side.
        while next <= now { next += period }
        while next - period > now { next -= period }
        return next
    }

    /// Advances the core's logical clock by one tick (elections, heartbeats) — unless the group is idle: a
    /// leader that can rest, or an idle follower whose leader gossip sees alive, rests instead, and its tick loop
    /// parks until an event (`step`, `propose`, `campaign`, `transferLeadership`, `wakeUp`) wakes it. An idle
    /// group then sends nothing and costs nothing (ARCHITECTURE "Data plane transport": idle groups rest).
    public func tick() {
        guard running else { return }
        if awakeTicks >= Self.minimumAwakeTicks, mayRest {
            rest()
            return
        }
        awakeTicks += 1
        countDownAwaitedAnswers()
        node.tick()
        wake.yield()
    }

    private func rest() {
        resting = true
        rests &+= 1
        let snapshot = status
        restingSnapshot.withLock { $0 = snapshot }
        guard node.role == .leader, nudgesWhileResting else { return }
        let rest = rests
        let nudge = Self.nextNudge(after: clock.elapsed, origin: .zero, period: Self.leaderNudge)
        let clock = clock
        // Owned: a later rest replaces it and `stop()` cancels it, so no sleeper outlives the driver.
        nudgeTask?.cancel()
        nudgeTask = Task(executorPreference: taskExecutor) {
            do { try await clock.sleep(until: nudge) } catch { return }
            await self.nudged(afterRest: rest)
        }
    }

    /// The nudge of rest number `rest` is due: wake, unless something woke the group since.
    private func nudged(afterRest rest: UInt64) {
        if resting, rests == rest { resume() }
    }

    /// Whether the group has nothing to tick for: a leader everyone has caught up with and that awaits no
    /// answer from a member that is back, or an idle follower of a leader that spoke to it in this term and that
    /// gossip sees alive.
    var mayRest: Bool {
        (node.canRest && awaitingAnswer.isEmpty)
            || (node.isIdleFollower && hasHeardFromLeader && node.leader.map(isAlive) == true)
    }

    /// Whether the leader this follower knows spoke to it, in this term, since gossip last woke it.
    private var hasHeardFromLeader: Bool {
        guard let heardFrom else { return false }
        return heardFrom.leader == node.leader && heardFrom.term == node.term
    }

    /// Makes the group tick again until it has heard from its leader. The node calls it for every group when
    /// gossip sees a member turn suspect or dead, or come back as a new incarnation, and when the transport finds
    /// a member's process gone: that member may be the leader a resting follower counts on, and a restarted
    /// node's groups no longer lead, so the follower waits for a heartbeat (every woken leader sends some) or
    /// times out and campaigns.
    ///
    /// A leader told that a member is back keeps ticking, and so heartbeating, until that member answers in its
    /// term or `awaitAnswerTicks` pass. A restarted node opens its replicas only once it has caught up with the
    /// catalog, so the heartbeats of the leader's short waking round often reached it before there was a
    /// replica to take them: the replica then waited for the next nudge, up to a second, and a client's first
    /// calls to the restarted node waited with it (1.1–1.5 s measured).
    ///
    /// - Parameter news: the member gossip suspects, declared dead or saw restart (`mayBeGone`), the member the
    ///   transport found gone (`isGone`), and the member gossip sees answering again (`isBack`), if any is why. A
    ///   follower of a member that is or may be gone stops counting on it and campaigns within an election
    ///   timeout (`Raft.Core.leaderSuspected`) instead of a whole timeout after waking, unless, for gossip's news,
    ///   it was ticking and heard its leader within the last heartbeat interval. `.none`: only wake.
    public func wakeUp(_ news: MemberNews = .none) {
        heardFrom = nil
        if let suspect = news.mayBeGone { node.leaderSuspected(suspect, unlessHeardRecently: !resting) }
        if let gone = news.isGone { node.leaderSuspected(gone, unlessHeardRecently: false) }
        if let member = news.isBack, member != id, node.role == .leader, node.configuration.members.contains(member) {
            awaitingAnswer[member] = Self.awaitAnswerTicks
        }
        resume()
    }

    /// How long a leader waits, awake, for a member that is back to answer (`wakeUp`): 3 s at the default
    /// 50 ms tick, long enough for a restarted node to replay its logs and open its replicas. Bounded, so that a
    /// member that never opens the group (it is being removed) costs only a few seconds of heartbeats.
    static let awaitAnswerTicks = 60

    /// One tick of the waits for members that are back: a wait ends when it runs out, or when this member no
    /// longer leads.
    func countDownAwaitedAnswers() {
        guard !awaitingAnswer.isEmpty else { return }
        guard node.role == .leader else {
            awaitingAnswer = [:]
            return
        }
        for (member, ticks) in awaitingAnswer { awaitingAnswer[member] = ticks > 1 ? ticks - 1 : nil }
    }

    /// Messages in this member's term end the waits of their senders.
    func noteAnswers(_ messages: [Raft.Message]) {
        guard !awaitingAnswer.isEmpty else { return }
        for message in messages where message.term == node.term { awaitingAnswer[message.from] = nil }
    }

    /// Resumes ticking a resting group (any event does).
    func resume() {
        guard resting else { return }
        resting = false
        restingSnapshot.withLock { $0 = nil }
        awakeTicks = 0
        restingTicker?.resume()
        restingTicker = nil
    }
}
