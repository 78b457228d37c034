import RillModel

extension Raft.Core {
    /// Why a campaign starts.
    enum CampaignKind {
        /// A pre-vote round that does not disturb anyone's term (thesis §9.6).
        case preVote
        /// A real election (Raft §5.2).
        case election
        /// A real election asked for by TimeoutNow; it may interrupt a live leader (thesis §3.10).
        case transfer
    }

    // MARK: - Time

    /// Advances logical time by one tick: election timeouts for followers and candidates, heartbeats and
    /// check-quorum for the leader.
    public mutating func tick() {
        if role == .leader {
            tickLeader()
        } else {
            electionElapsed += 1
            if isPromotable && electionElapsed >= randomizedElectionTimeout {
                electionElapsed = 0
                startCampaign(options.preVote ? .preVote : .election)
            }
        }
    }

    private mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if electionElapsed >= options.electionTicks {
            electionElapsed = 0
            // Thesis §6.2: a leader that cannot reach a majority within an election timeout steps down, so
            // clients move on to a leader that can commit.
            if options.checkQuorum && !isQuorumActive() {
                becomeFollower(term: term, leader: nil)
                return
            }
            // Thesis §3.10: abort a transfer that did not finish within an election timeout.
            transferTarget = nil
        }
        if heartbeatElapsed >= options.heartbeatTicks {
            heartbeatElapsed = 0
            broadcastHeartbeat()
        }
    }

    /// Whether a majority of voters (counting the leader) answered since the last check, then starts a new round.
    private mutating func isQuorumActive() -> Bool {
        var active: [NodeID: Bool] = [:]
        for (peer, var peerProgress) in progress {
            active[peer] = peer == id || peerProgress.recentActive
            peerProgress.recentActive = false
            progress[peer] = peerProgress
        }
        return Raft.Quorum.voteResult(voters: configuration.voters, votes: active.filter(\.value)) == .won
    }

    // MARK: - Campaigns

    /// Starts an election now (with a pre-vote round when enabled), as if the election timeout had passed.
    /// Ignored on a leader and on a node that cannot vote.
    public mutating func campaign() {
        guard role != .leader, isPromotable else { return }
        startCampaign(options.preVote ? .preVote : .election)
    }

    mutating func startCampaign(_ kind: CampaignKind) {
        let campaignTerm: Term
        if kind == .preVote {
            // Thesis §9.6: ask whether we could win before bumping our term, so a node that rejoins from a
            // partition cannot depose a healthy leader.
            role = .preCandidate
            leader = nil
            votes = [:]
            campaignTerm = term.next
        } else {
            becomeCandidate()
            campaignTerm = term
        }
        votes[id] = true
        if Raft.Quorum.voteResult(voters: configuration.voters, votes: votes) == .won {
            // A single voter wins alone.
            if kind == .preVote { startCampaign(.election) } else { becomeLeader() }
            return
        }
        for peer in configuration.voters.sorted() where peer != id {
            send(
                to: peer,
                .requestVote(
                    lastIndex: log.lastIndex,
                    lastTerm: log.lastTerm,
                    preVote: kind == .preVote,
                    transfer: kind == .transfer
                ),
                term: campaignTerm
            )
        }
    }

    /// Handles RequestVote and PreVote (Raft §5.2, §5.4.1; thesis §9.6). The term checks are done by `step`.
    mutating func handleVoteRequest(_ message: Raft.Message, lastIndex: LogIndex, lastTerm: Term, preVote: Bool) {
        // Raft §5.2: at most one vote per term, first come first served. A pre-vote for a later term binds nothing.
        // A member that lost its disk may have voted in this term before; it must not vote again.
        let canVote =
            abstention == nil
            && (vote == message.from || (vote == nil && leader == nil) || (preVote && message.term > term))
        if canVote && log.isUpToDate(lastIndex: lastIndex, lastTerm: lastTerm) {
            // A granted (pre-)vote carries the requested term, so the candidate can tell it from an old one.
            send(to: message.from, .voteResponse(granted: true, preVote: preVote), term: message.term)
            if !preVote {
                electionElapsed = 0
                vote = message.from
            }
        } else {
            send(to: message.from, .voteResponse(granted: false, preVote: preVote))
        }
    }

    /// Tallies a vote for the current (pre-)election.
    mutating func handleVoteResponse(_ message: Raft.Message, granted: Bool, preVote: Bool) {
        guard (role == .preCandidate && preVote) || (role == .candidate && !preVote) else { return }
        votes[message.from] = granted
        switch Raft.Quorum.voteResult(voters: configuration.voters, votes: votes) {
        case .won:
            if role == .preCandidate { startCampaign(.election) } else { becomeLeader() }
        case .lost:
            becomeFollower(term: term, leader: nil)
        case .pending:
            break
        }
    }

    // MARK: - Role changes

    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID?) {
        if newTerm != term {
            term = newTerm
            vote = nil
        }
        role = .follower
        leader = newLeader
        resetTimers()
    }

    mutating func becomeCandidate() {
        term = term.next
        vote = id
        role = .candidate
        leader = nil
        votes = [:]
        resetTimers()
    }

    mutating func becomeLeader() {
        role = .leader
        leader = id
        resetTimers()
        progress = [:]
        for member in configuration.members {
            progress[member] = Raft.Progress(match: .zero, next: log.lastIndex.next)
        }
        progress[id]?.match = persistedIndex
        // Raft §8: a new leader commits an entry of its own term to learn what is committed.
        let noop = appendAsLeader(kind: .noop, payload: [], timestampMillis: 0)
        // Thesis §4.1: any config entry past the commit point may still be uncommitted, so wait for it. Waiting
        // for the noop too closes the single-server change bug Ongaro described (raft-dev, 2015): a leader may
        // change the configuration only after it has committed an entry of its own term.
        pendingConfigurationIndex = noop
    }

    private mutating func resetTimers() {
        electionElapsed = 0
        heartbeatElapsed = 0
        votes = [:]
        transferTarget = nil
        resetRandomizedElectionTimeout()
    }
}
