import RillModel
import RillRaft
import Testing

/// One test per rule of the Raft paper (Ongaro and Ousterhout 2014) and thesis (Ongaro 2014), in the style of
/// etcd-io/raft `raft_paper_test.go`. "§" alone is the paper; "thesis §" the dissertation.
@Suite struct RaftPaperTests {
    static let classic = Raft.Options(electionTicks: 10, heartbeatTicks: 1, preVote: false, checkQuorum: false)

    // MARK: - §5.1 Terms

    @Test(
        "Raft §5.1: a node that sees a higher term adopts it and becomes follower",
        arguments: [Raft.Role.follower, .candidate, .leader]
    )
    func higherTermMakesFollower(role: Raft.Role) {
        var cluster = TestCluster(voters: 3, options: Self.classic)
        switch role {
        case .candidate: cluster[1].campaign()
        case .leader: cluster.elect(1)
        default: break
        }
        #expect(cluster[1].role == role)
        let heartbeat = message(2, 1, term: 9, .heartbeat(commit: .zero))
        cluster[1].step(heartbeat)
        #expect(cluster[1].term == Term(9))
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].leader == NodeID(2))
        #expect(cluster[1].vote == nil)
    }

    @Test("Raft §5.1: a request with a stale term is rejected and does not change state")
    func staleTermIgnored() {
        var cluster = TestCluster(voters: 3, options: Self.classic)
        cluster.elect(1)
        cluster.elect(2)
        var node = cluster[3]
        _ = outgoing(&node)
        let before = node.hardState
        node.step(message(1, 3, term: 1, .appendEntries(prevIndex: .zero, prevTerm: .zero, entries: [], commit: .zero)))
        node.step(
            message(
                1,
                3,
                term: 1,
                .requestVote(lastIndex: LogIndex(9), lastTerm: Term(1), preVote: false, transfer: false)
            )
        )
        #expect(node.hardState == before)
        #expect(node.leader == NodeID(2))
        #expect(outgoing(&node).allSatisfy { $0.term > Term(1) })
    }

    // MARK: - §5.2 Leader election

    @Test("Raft §5.2: a follower that hears nothing for an election timeout becomes candidate and asks for votes")
    func followerStartsElection() {
        var cluster = TestCluster(voters: 3, options: Self.classic)
        cluster.tickElection(1)
        #expect(cluster[1].role == .candidate)
        #expect(cluster[1].term == Term(1))
        #expect(cluster[1].vote == NodeID(1))
        let votes = cluster.inFlight
        #expect(Set(votes.map(\.to)) == [NodeID(2), NodeID(3)])
        #expect(
            votes.allSatisfy {
                $0.body == .requestVote(lastIndex: .zero, lastTerm: .zero, preVote: false, transfer: false)
            }
        )
    }

    @Test("Raft §5.2: election timeouts are randomized in [electionTicks, 2 × electionTicks)")
    func electionTimeoutRandomized() {
        var seen: Set<Int> = []
        for seed in 0..<50 {
            var random = TestRandom(seed: UInt64(seed))
            var node = Raft.Core(
                id: NodeID(1),
                configuration: Raft.Configuration(voters: [NodeID(1), NodeID(2)]),
                options: Self.classic,
                random: &random
            )
            var ticks = 0
            while node.role == .follower && ticks < 100 {
                node.tick()
                ticks += 1
            }
            #expect(ticks >= 10 && ticks < 20)
            seen.insert(ticks)
        }
        #expect(seen.count > 3)
    }

    @Test(
        "Raft §5.2: a candidate wins with votes from a majority, loses once a majority refuses",
        arguments: [
            (3, [2: true], Raft.Role.leader), (3, [2: false], .candidate), (3, [2: false, 3: false], .follower),
            (5, [2: true], .candidate), (5, [2: true, 3: true], .leader),
            (5, [2: false, 3: false, 4: false], .follower),
        ] as [(Int, [UInt64: Bool], Raft.Role)]
    )
    func candidateCountsVotes(size: Int, responses: [UInt64: Bool], expected: Raft.Role) {
        var cluster = TestCluster(voters: size, options: Self.classic)
        cluster[1].campaign()
        for (from, granted) in responses.sorted(by: { $0.key < $1.key }) {
            cluster[1].step(message(from, 1, term: 1, .voteResponse(granted: granted, preVote: false)))
        }
        #expect(cluster[1].role == expected)
    }

    @Test("Raft §5.2: a node votes for at most one candidate per term, first come first served")
    func oneVotePerTerm() {
        var node = TestCluster(voters: 3, options: Self.classic)[3]
        let ask = Raft.Body.requestVote(lastIndex: .zero, lastTerm: .zero, preVote: false, transfer: false)
        node.step(message(1, 3, term: 1, ask))
        node.step(message(2, 3, term: 1, ask))
        node.step(message(1, 3, term: 1, ask))  // a retry from the one we voted for is granted again
        let answers = outgoing(&node).map { ($0.to, $0.body) }
        #expect(answers.map(\.0) == [NodeID(1), NodeID(2), NodeID(1)])
        #expect(
            answers.map(\.1) == [
                .voteResponse(granted: true, preVote: false), .voteResponse(granted: false, preVote: false),
                .voteResponse(granted: true, preVote: false),
            ]
        )
        #expect(node.vote == NodeID(1))
    }

    @Test("Raft §5.2: a candidate that hears AppendEntries from a leader of its term steps down")
    func candidateFollowsLeaderOfItsTerm() {
        var cluster = TestCluster(voters: 3, options: Self.classic)
        cluster[1].campaign()
        cluster[1].step(
            message(2, 1, term: 1, .appendEntries(prevIndex: .zero, prevTerm: .zero, entries: [], commit: .zero))
        )
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].leader == NodeID(2))
        #expect(cluster[1].term == Term(1))
    }

    // MARK: - §5.3 Log replication

    @Test("Raft §5.3: the leader appends a proposal and sends it with the previous index and term")
    func leaderReplicatesProposal() throws {
        var cluster = TestCluster(voters: 3, options: Self.classic)
        cluster.elect(1)
        let index = try cluster[1].propose(kind: .records, payload: [7])
        #expect(index == LogIndex(2))
        cluster.process(NodeID(1))
        let appends = cluster.inFlight.filter { if case .appendEntries = $0.body { true } else { false } }
        #expect(appends.count == 2)
        for append in appends {
            guard case .appendEntries(let prevIndex, let prevTerm, let entries, _) = append.body else { continue }
            #expect(prevIndex == LogIndex(1) && prevTerm == Term(1))
            #expect(entries.map(\.payload) == [[7]])
        }
    }

    @Test("Raft §5.3: an entry commits once a majority stores it, and every node applies it")
    func majorityCommits() throws {
        var cluster = TestCluster(voters: 3, options: Self.classic)
        cluster.elect(1)
        try cluster[1].propose(kind: .records, payload: [1])
        cluster.process(NodeID(1))
        // Only node 2 receives the append: 2 of 3 is a majority.
        cluster.deliver { $0.to == NodeID(2) }
        cluster.deliver { $0.to == NodeID(1) }
        #expect(cluster[1].commitIndex == LogIndex(2))
        #expect(cluster.applied[NodeID(1)]?.last?.payload == [1])
        cluster.stabilize()
        cluster.tickHeartbeat(1)
        cluster.stabilize()
        for id in cluster.ids { #expect(cluster.applied[id]?.map(\.index) == [LogIndex(1), LogIndex(2)]) }
    }

    @Test("Raft §5.3, thesis §10.2.1: the leader counts itself only once its own write is durable")
    func leaderCountsItselfAfterPersisting() throws {
        var cluster = TestCluster(voters: 3, options: Self.classic)
        cluster.elect(1)
        var leader = cluster[1]
        try leader.propose(kind: .records, payload: [1])
        guard let ready = leader.ready() else {
            Issue.record("no ready")
            return
        }
        // Appends may leave before the write; they are in `messages`, not `messagesAfterPersist`.
        #expect(ready.messages.count == 2 && ready.messagesAfterPersist.isEmpty)
        leader.step(message(2, 1, term: 1, .appendResponse(.accepted(matchIndex: LogIndex(2)))))
        // One follower alone is not a majority of three while our own copy is not durable.
        #expect(leader.commitIndex == LogIndex(1))
        write(ready, to: leader)
        leader.advance(ready)
        #expect(leader.commitIndex == LogIndex(2))
    }

    @Test("Raft §5.2, §5.3: vote grants and append acknowledgements wait for persistence")
    func promisesWaitForPersistence() {
        var node = TestCluster(voters: 3, options: Self.classic)[3]
        node.step(
            message(1, 3, term: 1, .requestVote(lastIndex: .zero, lastTerm: .zero, preVote: false, transfer: false))
        )
        guard let ready = node.ready() else {
            Issue.record("no ready")
            return
        }
        #expect(ready.messages.isEmpty)
        #expect(ready.messagesAfterPersist.map(\.body) == [.voteResponse(granted: true, preVote: false)])
        #expect(ready.hardState == Raft.HardState(term: Term(1), vote: NodeID(1), commit: .zero))
    }

    @Test("Raft §5.3: a follower rejects an append whose previous entry it lacks, with a back-off hint")
    func followerRejectsMismatch() {
        var node = TestCluster(voters: 3, options: Self.classic)[3]
        let entries = (1...3).map { LogEntry(term: Term(1), index: LogIndex(UInt64($0)), kind: .noop) }
        node.step(
            message(1, 3, term: 1, .appendEntries(prevIndex: .zero, prevTerm: .zero, entries: entries, commit: .zero))
        )
        _ = outgoing(&node)
        node.step(
            message(
                2,
                3,
                term: 3,
                .appendEntries(prevIndex: LogIndex(7), prevTerm: Term(3), entries: [], commit: .zero)
            )
        )
        let answer = outgoing(&node).last?.body
        #expect(answer == .appendResponse(.rejected(index: LogIndex(7), hintIndex: LogIndex(3), hintTerm: Term(1))))
    }

    @Test("Raft §5.3: a follower deletes a conflicting entry and all that follow it, then appends the leader's")
    func followerTruncatesConflict() {
        var node = TestCluster(voters: 3, options: Self.classic)[3]
        let old = (1...3).map {
            LogEntry(term: Term(1), index: LogIndex(UInt64($0)), kind: .records, payload: [UInt8($0)])
        }
        node.step(
            message(1, 3, term: 1, .appendEntries(prevIndex: .zero, prevTerm: .zero, entries: old, commit: LogIndex(1)))
        )
        _ = outgoing(&node)
        let new = [LogEntry(term: Term(2), index: LogIndex(2), kind: .records, payload: [9])]
        node.step(
            message(
                2,
                3,
                term: 2,
                .appendEntries(prevIndex: LogIndex(1), prevTerm: Term(1), entries: new, commit: LogIndex(1))
            )
        )
        #expect(node.log.lastIndex == LogIndex(2))
        #expect(node.log.entry(at: LogIndex(2))?.payload == [9])
        let ready = node.ready()
        #expect(ready?.truncateFrom == LogIndex(1) || ready?.truncateFrom == LogIndex(2))
        #expect(ready?.entries.last?.payload == [9])
    }

    @Test("Raft §5.3: fast back-off finds the match point of a divergent follower in few round trips")
    func fastBackOff() throws {
        var cluster = TestCluster(voters: 3, options: Self.classic)
        cluster.elect(1)
        // Node 1 appends many entries that only it holds, then loses leadership to node 2.
        cluster.partition = [[NodeID(1)], [NodeID(2), NodeID(3)]]
        for value in 0..<20 { try cluster[1].propose(kind: .records, payload: [UInt8(value)]) }
        cluster.stabilize()
        cluster.elect(2)
        try cluster[2].propose(kind: .records, payload: [99])
        cluster.stabilize()
        cluster.partition = nil
        cluster.tickHeartbeat(2)
        let messages = cluster.stabilize()
        let rejections = messages.filter { if case .appendResponse(.rejected) = $0.body { true } else { false } }
        #expect(rejections.count <= 2)
        #expect(cluster[1].log.lastIndex == cluster[2].log.lastIndex)
        #expect(cluster[1].log.entry(at: cluster[2].log.lastIndex)?.payload == [99])
    }

    // MARK: - §5.4 Safety

    @Test(
        "Raft §5.4.1: a voter refuses a candidate whose log is less up-to-date",
        arguments: [
            // (candidate last term, candidate last index, granted) against a voter holding 1/1, 2/2.
            (UInt64(2), UInt64(2), true), (2, 3, true), (3, 1, true), (2, 1, false), (1, 5, false),
        ]
    )
    func upToDateLogWins(lastTerm: UInt64, lastIndex: UInt64, granted: Bool) {
        var node = TestCluster(voters: 3, options: Self.classic)[3]
        let entries = [
            LogEntry(term: Term(1), index: LogIndex(1), kind: .noop),
            LogEntry(term: Term(2), index: LogIndex(2), kind: .noop),
        ]
        node.step(
            message(2, 3, term: 2, .appendEntries(prevIndex: .zero, prevTerm: .zero, entries: entries, commit: .zero))
        )
        _ = outgoing(&node)
        node.step(
            message(
                1,
                3,
                term: 4,
                .requestVote(lastIndex: LogIndex(lastIndex), lastTerm: Term(lastTerm), preVote: false, transfer: false)
            )
        )
        #expect(outgoing(&node).last?.body == .voteResponse(granted: granted, preVote: false))
    }

    @Test("Raft §5.4.2 (Figure 8): a leader never commits an earlier-term entry by counting replicas")
    func noCommitOfEarlierTermByCounting() throws {
        var cluster = TestCluster(voters: 3, options: Self.classic)
        cluster.elect(1)
        // Term 1: node 1 appends an entry X at index 2 that reaches nobody.
        cluster.partition = [[NodeID(1)], [NodeID(2), NodeID(3)]]
        try cluster[1].propose(kind: .records, payload: [1])
        cluster.stabilize()
        // Term 2: node 3 leads with node 2's vote; its noop at index 2 reaches nobody.
        cluster[3].campaign()
        cluster.process(NodeID(3))
        cluster.deliver()
        cluster.deliver()
        #expect(cluster[3].role == .leader && cluster[3].term == Term(2))
        cluster.inFlight.removeAll()
        // Term 3: node 1, deposed by hearing of term 2, leads with node 2's vote.
        cluster.partition = [[NodeID(1), NodeID(2)], [NodeID(3)]]
        cluster[1].step(message(2, 1, term: 2, .heartbeatResponse))
        #expect(cluster[1].role == .follower)
        cluster.process(NodeID(1))
        cluster[1].campaign()
        cluster.process(NodeID(1))
        cluster.deliver()
        cluster.deliver()
        #expect(cluster[1].role == .leader && cluster[1].term == Term(3))
        cluster.deliver()  // node 2 lacks X: rejects the probe
        cluster.deliver()  // node 1 backs off and sends X with its noop
        // Deliver X alone, as if the noop were still in flight.
        cluster.inFlight = cluster.inFlight.map { message in
            guard case .appendEntries(let prevIndex, let prevTerm, let entries, let commit) = message.body else {
                return message
            }
            var trimmed = message
            trimmed.body = .appendEntries(
                prevIndex: prevIndex,
                prevTerm: prevTerm,
                entries: entries.filter { $0.term < Term(3) },
                commit: commit
            )
            return trimmed
        }
        cluster.deliver()
        cluster.deliver()
        // X (term 1) is on a majority, nodes 1 and 2, but it is not of the leader's term: not committed, because
        // node 3 (last term 2) could still win node 2's vote and overwrite it.
        #expect(cluster[2].log.entry(at: LogIndex(2))?.term == Term(1))
        #expect(cluster[1].commitIndex == LogIndex(1))
        // Once the noop of term 3 is on a majority, it commits, and X with it.
        cluster.stabilize()
        #expect(cluster[1].commitIndex == LogIndex(3))
        #expect(cluster.applied[NodeID(1)]?.map(\.payload) == [[], [1], []])
    }
}

/// Restart behaviour: what a node recovers from its persistent state (Raft Figure 2).
@Suite struct RestartTests {
    @Test("Raft Figure 2: term, vote and log survive a restart; committed entries are applied again from `applied`")
    func restartRecoversPersistentState() throws {
        var cluster = TestCluster(voters: 3)
        cluster.elect(1)
        try cluster[1].propose(kind: .records, payload: [1])
        try cluster[1].propose(kind: .records, payload: [2])
        cluster.stabilize()
        cluster.tickHeartbeat(1)
        cluster.stabilize()
        let storage = try #require(cluster.storage[NodeID(2)])
        var random = TestRandom(seed: 7)
        let configuration = Raft.Configuration(voters: [NodeID(1), NodeID(2), NodeID(3)])
        var restarted = Raft.Core(
            id: NodeID(2),
            configuration: configuration,
            hardState: cluster.hardStates[NodeID(2)] ?? Raft.HardState(),
            storage: storage,
            applied: LogIndex(2),
            random: &random
        )
        #expect(restarted.term == Term(1))
        #expect(restarted.vote == NodeID(1))
        #expect(restarted.log.lastIndex == LogIndex(3))
        #expect(restarted.commitIndex == LogIndex(3))
        let ready = restarted.ready()
        #expect(ready?.committedEntries.map(\.index) == [LogIndex(3)])
        #expect(ready?.entries.isEmpty == true)
    }
}
