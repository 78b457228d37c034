import Logging
import RillModel
import RillRaft
import RillStorage

/// What a group's owner and its peers feed the core: messages (queued by the inbox, or stepped) and proposals.
extension RaftGroupDriver {
    /// Queues messages from a peer for the group, in order, and returns at once: safe on an event loop.
    public nonisolated func enqueue(_ messages: [Raft.Message]) {
        inboxInput.yield(.messages(messages))
    }

    /// Queues a `wakeUp(_:)` behind the messages already queued and returns at once: safe on an event loop or
    /// in a gossip callback, and owned by the driver's inbox loop instead of a task of its own.
    public nonisolated func enqueueWakeUp(_ news: MemberNews = .none) {
        inboxInput.yield(.wakeUp(news))
    }

    /// What the inbox loop delivers, in arrival order.
    enum Inbound: Sendable {
        case messages([Raft.Message])
        case wakeUp(MemberNews)
    }

    /// Delivers a message from a peer of this group.
    public func step(_ message: Raft.Message) {
        step([message])
    }

    /// Delivers a batch of messages from peers, in order.
    public func step(_ messages: [Raft.Message]) {
        guard running else { return }
        for message in messages { node.step(message) }
        noteAnswers(messages)
        if let leader = node.leader, messages.contains(where: { $0.from == leader && $0.term == node.term }) {
            heardFrom = (leader, node.term)
        }
        // An idle group's own traffic (a resting leader's nudge heartbeats, their answers) leaves a resting member
        // as restful as it was: it answers without ticking again. Woken, it would tick `minimumAwakeTicks`, send
        // another heartbeat round and rest, and the answers to that round woke the leader again: at 1,000 idle
        // shards the groups stayed awake most of the time. Anything else wakes it. A vote request above all: a
        // leader that stopped hearing its followers (a one-way cut, while gossip sees its node alive) steps down
        // and campaigns, and its followers must wake to time out and elect; a build that let any message of a
        // restful member pass left such a group without a leader for good.
        if !(resting && mayRest && messages.allSatisfy(isIdleTraffic)) { resume() }
        wake.yield()
    }

    /// Whether `message` is the traffic of an idle group in this member's term: its leader's heartbeat to this
    /// follower, or a follower's answer to this leader's heartbeat.
    private func isIdleTraffic(_ message: Raft.Message) -> Bool {
        guard message.term == node.term else { return false }
        switch message.body {
        case .heartbeat: return node.role == .follower && message.from == node.leader
        case .heartbeatResponse: return node.role == .leader
        default: return false
        }
    }

    /// Appends an entry as leader and returns its index once it is committed *and applied* here.
    ///
    /// - Throws: `ProposalError`. `.notLeader`, `.dropped` and `.notRunning` mean nothing was appended;
    ///   `.indeterminate` means it may or may not commit later; `.superseded` means it never will.
    ///   Cancelling the calling task does not withdraw an appended entry, so the call still waits for its outcome.
    /// With `inTerm`, only while this member still leads in that term (a check made then still holds).
    public func propose(
        kind: EntryKind,
        payload: [UInt8],
        timestampMillis: Int64,
        inTerm: Term? = nil
    ) async throws -> LogIndex {
        guard running else { throw ProposalError.notRunning }
        if let inTerm, node.term != inTerm || node.role != .leader {
            throw ProposalError.notLeader(hint: node.leader)
        }
        resume()
        let index: LogIndex
        do {
            index = try node.propose(kind: kind, payload: payload, timestampMillis: timestampMillis)
        } catch .notLeader(let hint) {
            throw ProposalError.notLeader(hint: hint)
        } catch {
            // A transfer under way (thesis §3.10) names the member about to lead: it wins within a round trip
            // once caught up, so the forwarder goes there at once. As `dropped` the write backed off blindly
            // and stalled 0.3-0.7 s behind every leadership homecoming.
            if let target = node.transferTarget { throw ProposalError.notLeader(hint: target) }
            throw ProposalError.dropped
        }
        let term = node.term
        wake.yield()
        // Registered before the first await, so no Ready can commit it unseen.
        return try await withCheckedThrowingContinuation { continuation in
            waiters[index] = (term, continuation)
        }
    }
}
