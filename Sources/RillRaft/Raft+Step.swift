import RillModel

extension Raft.Core {
    /// Feeds a message from a peer. Messages for another node, from a stale term, or that make no sense in the
    /// current role are dropped; the core never traps on peer input.
    public mutating func step(_ message: Raft.Message) {
        guard message.to == id, message.from != id else { return }
        if message.term > term {
            guard acceptHigherTerm(message) else { return }
        } else if message.term < term {
            answerStaleTerm(message)
            return
        }
        switch message.body {
        case .requestVote(let lastIndex, let lastTerm, let preVote, _):
            handleVoteRequest(message, lastIndex: lastIndex, lastTerm: lastTerm, preVote: preVote)
        case .voteResponse(let granted, let preVote):
            // A granted pre-vote carries the term we would campaign in; anything else is of our term.
            let expected = role == .preCandidate && preVote && granted ? term.next : term
            guard message.term == expected else { return }
            handleVoteResponse(message, granted: granted, preVote: preVote)
        case .appendEntries(let prevIndex, let prevTerm, let entries, let commit):
            guard role != .leader else { return }
            followLeader(message.from)
            handleAppendEntries(
                from: message.from,
                prevIndex: prevIndex,
                prevTerm: prevTerm,
                entries: entries,
                commit: commit
            )
            if abstention != nil { noteLeaderAppend(commit: commit) }
        case .heartbeat(let commit):
            guard role != .leader else { return }
            followLeader(message.from)
            advanceCommit(to: commit)
            if commit > log.lastIndex {
                // The leader counts entries here that we no longer hold (a wiped or cut disk): say where our log
                // ends, as a rejection, so it replicates from there (`Progress.regress`).
                let last = log.lastIndex
                send(
                    to: message.from,
                    .appendResponse(.rejected(index: commit, hintIndex: last, hintTerm: log.term(at: last) ?? .zero))
                )
            } else {
                send(to: message.from, .heartbeatResponse)
            }
        case .installSnapshot(let snapshot):
            guard role != .leader else { return }
            followLeader(message.from)
            handleSnapshot(from: message.from, snapshot)
        case .appendResponse(let result):
            guard role == .leader else { return }
            handleAppendResponse(from: message.from, result)
        case .heartbeatResponse:
            guard role == .leader else { return }
            handleHeartbeatResponse(from: message.from)
        case .timeoutNow:
            // Thesis §3.10: campaign at once, skipping pre-vote, since the leader asked for it.
            guard role != .leader, isPromotable else { return }
            startCampaign(.transfer)
        }
    }

    /// Decides what a message from a higher term does to us; false when it is to be ignored.
    private mutating func acceptHigherTerm(_ message: Raft.Message) -> Bool {
        switch message.body {
        case .requestVote(_, _, let preVote, let transfer):
            // Thesis §4.2.3, §6.2: while we hear from a leader, a vote request is from a node that cannot see it
            // (or a removed server); ignore it so it cannot depose a healthy leader. TimeoutNow campaigns pass.
            let inLease = options.checkQuorum && leader != nil && electionElapsed < options.electionTicks
            if inLease && !transfer { return false }
            // A pre-vote request does not move our term (thesis §9.6).
            if preVote { return true }
            becomeFollower(term: message.term, leader: nil)
        case .voteResponse(let granted, let preVote) where preVote && granted:
            // A granted pre-vote carries the future term; our term moves only when we really campaign.
            return true
        case .appendEntries, .heartbeat, .installSnapshot:
            becomeFollower(term: message.term, leader: message.from)
        default:
            becomeFollower(term: message.term, leader: nil)
        }
        return true
    }

    /// Answers a message from an older term when the answer helps the sender catch up.
    private mutating func answerStaleTerm(_ message: Raft.Message) {
        switch message.body {
        case .appendEntries, .heartbeat, .installSnapshot:
            // With check-quorum or pre-vote, a stale leader may never see a higher-term vote request; tell it our
            // term so it steps down (etcd-io/raft).
            if options.checkQuorum || options.preVote {
                send(to: message.from, .heartbeatResponse)
            }
        case .requestVote(_, _, true, _):
            // Reject a pre-vote with our term so the pre-candidate learns it is behind.
            send(to: message.from, .voteResponse(granted: false, preVote: true))
        default:
            break
        }
    }

    private mutating func followLeader(_ leaderID: NodeID) {
        if role != .follower {
            becomeFollower(term: term, leader: leaderID)
        }
        leader = leaderID
        electionElapsed = 0
    }
}
