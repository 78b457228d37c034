import RillModel
import RillRaft
import Testing

/// The disk-backable log: the core reads durable entries from `Raft.LogStorage` and keeps only the unstable
/// tail in memory (etcd-io/raft `raftLog` = `Storage` + `unstable`).
@Suite struct StorageTests {
    static let classic = Raft.Options(electionTicks: 10, heartbeatTicks: 1, preVote: false, checkQuorum: false)
    static let configuration = Raft.Configuration(voters: [NodeID(1), NodeID(2), NodeID(3)])

    static func records(_ range: ClosedRange<UInt64>, term: UInt64) -> [LogEntry] {
        range.map { LogEntry(term: Term(term), index: LogIndex($0), kind: .records, payload: [UInt8($0 % 256)]) }
    }

    @Test("a restarted node built from hard state and storage alone answers terms, bounds and commits from storage")
    func restartFromStorage() {
        let snapshot = Raft.Snapshot(index: LogIndex(5), term: Term(2), configuration: Self.configuration, state: [7])
        let entries = Self.records(6...7, term: 2) + Self.records(8...10, term: 3)
        let storage = Raft.MemoryStorage(snapshot: snapshot, entries: entries)
        var random = TestRandom(seed: 1)
        var node = Raft.Core(
            id: NodeID(2),
            configuration: Self.configuration,
            hardState: Raft.HardState(term: Term(3), vote: NodeID(1), commit: LogIndex(8)),
            storage: storage,
            options: Self.classic,
            random: &random
        )
        #expect(node.log.unstable.isEmpty)
        #expect(node.log.snapshotIndex == LogIndex(5) && node.log.firstIndex == LogIndex(6))
        #expect(node.log.lastIndex == LogIndex(10) && node.log.lastTerm == Term(3))
        #expect(node.log.term(at: LogIndex(4)) == nil)
        #expect(node.log.term(at: LogIndex(5)) == Term(2))
        #expect(node.log.term(at: LogIndex(7)) == Term(2))
        #expect(node.log.term(at: LogIndex(9)) == Term(3))
        #expect(node.log.term(at: LogIndex(11)) == nil)
        #expect(node.snapshot == snapshot)
        #expect(node.commitIndex == LogIndex(8))
        // Committed entries after the snapshot are read back from storage to apply.
        guard let ready = node.ready() else {
            Issue.record("no ready")
            return
        }
        #expect(ready.entries.isEmpty)
        #expect(ready.committedEntries.map(\.index) == [LogIndex(6), LogIndex(7), LogIndex(8)])
        write(ready, to: node)
        node.advance(ready)
        // The leader's append after 9/3 matches what storage holds; one after 7/3 does not, and the hint comes
        // from storage's terms.
        node.step(
            message(
                1,
                2,
                term: 3,
                .appendEntries(prevIndex: LogIndex(9), prevTerm: Term(3), entries: [], commit: LogIndex(9))
            )
        )
        #expect(outgoing(&node).last?.body == .appendResponse(.accepted(matchIndex: LogIndex(9))))
        node.step(
            message(
                1,
                2,
                term: 3,
                .appendEntries(prevIndex: LogIndex(10), prevTerm: Term(4), entries: [], commit: LogIndex(9))
            )
        )
        #expect(
            outgoing(&node).last?.body
                == .appendResponse(.rejected(index: LogIndex(10), hintIndex: LogIndex(10), hintTerm: Term(3)))
        )
        // A vote request is judged against the stored last entry (10/3).
        node.step(
            message(
                3,
                2,
                term: 4,
                .requestVote(lastIndex: LogIndex(9), lastTerm: Term(3), preVote: false, transfer: false)
            )
        )
        #expect(outgoing(&node).last?.body == .voteResponse(granted: false, preVote: false))
    }

    @Test("a leader serves a lagging follower entries held only in storage, within the byte limit per append")
    func leaderReadsFromStorage() throws {
        var options = Self.classic
        options.maxAppendBytes = 100  // three one-byte records (33 bytes each by `Raft.entrySize`)
        var cluster = TestCluster(voters: 3, options: options)
        // Node 1 restarts holding twenty entries on disk and none in memory; nodes 2 and 3 hold nothing.
        cluster.storage[NodeID(1)] = Raft.MemoryStorage(entries: Self.records(1...20, term: 1))
        cluster.hardStates[NodeID(1)] = Raft.HardState(term: Term(1))
        cluster.add(NodeID(1), configuration: Self.configuration)
        #expect(cluster[1].log.unstable.isEmpty && cluster[1].log.lastIndex == LogIndex(20))
        cluster[1].campaign()
        let messages = cluster.stabilize()
        #expect(cluster[1].role == .leader)
        let appends = messages.compactMap { message -> [LogEntry]? in
            if case .appendEntries(_, _, let entries, _) = message.body { entries } else { nil }
        }
        #expect(appends.allSatisfy { $0.count <= 3 })
        for id in cluster.ids {
            #expect(cluster.nodes[id]?.log.lastIndex == LogIndex(21))
            #expect(cluster.applied[id]?.map(\.index) == (1...21).map { LogIndex(UInt64($0)) })
            #expect(
                cluster.storage[id]?.storedEntries.map(\.payload)
                    == cluster.storage[NodeID(1)]?.storedEntries.map(\.payload)
            )
        }
    }

    @Test("memory stays bounded: entries leave the unstable tail once advance reports them durable")
    func unstableEmptiesAfterAdvance() throws {
        var cluster = TestCluster(voters: 3, options: Self.classic)
        cluster.elect(1)
        var leader = cluster[1]
        for value in 0..<5 { try leader.propose(kind: .records, payload: [UInt8(value)]) }
        #expect(leader.log.unstable.count == 5)
        guard let ready = leader.ready() else {
            Issue.record("no ready")
            return
        }
        #expect(ready.entries.count == 5)
        // Handed out but not yet durable: still in memory.
        #expect(leader.log.unstable.count == 5)
        write(ready, to: leader)
        leader.advance(ready)
        #expect(leader.log.unstable.isEmpty)
        #expect(leader.log.entry(at: leader.log.lastIndex)?.payload == [4])
        cluster[1] = leader
        cluster.inFlight += ready.messages + ready.messagesAfterPersist
        cluster.stabilize()
        for id in cluster.ids {
            #expect(cluster.nodes[id]?.log.unstable.isEmpty == true)
            #expect(cluster.nodes[id]?.commitIndex == LogIndex(6))
        }
    }

    @Test("a follower's overwrite masks stale stable entries until the shell writes over them")
    func truncationMasksStorage() {
        var node = TestCluster(voters: 3, options: Self.classic)[3]
        node.step(
            message(
                1,
                3,
                term: 1,
                .appendEntries(prevIndex: .zero, prevTerm: .zero, entries: Self.records(1...3, term: 1), commit: .zero)
            )
        )
        _ = outgoing(&node)
        #expect(node.log.unstable.isEmpty)
        let conflicting = [LogEntry(term: Term(2), index: LogIndex(2), kind: .records, payload: [9])]
        node.step(
            message(
                2,
                3,
                term: 2,
                .appendEntries(prevIndex: LogIndex(1), prevTerm: Term(1), entries: conflicting, commit: .zero)
            )
        )
        let storage = node.log.storage
        #expect(storage.lastIndex == LogIndex(3))  // not yet overwritten
        #expect(node.log.lastIndex == LogIndex(2))
        #expect(node.log.term(at: LogIndex(2)) == Term(2))
        #expect(node.log.term(at: LogIndex(3)) == nil)
        _ = outgoing(&node)
        #expect(storage.lastIndex == LogIndex(2) && storage.term(at: LogIndex(2)) == Term(2))
        #expect(node.log.unstable.isEmpty)
    }

    @Test("a restart far behind its commit point applies in Readys bounded by maxApplyBytes")
    func applyIsBounded() {
        var options = Self.classic
        options.maxApplyBytes = 66  // two one-byte records
        let storage = Raft.MemoryStorage(entries: Self.records(1...5, term: 1))
        var random = TestRandom(seed: 3)
        var node = Raft.Core(
            id: NodeID(1),
            configuration: Self.configuration,
            hardState: Raft.HardState(term: Term(1), commit: LogIndex(5)),
            storage: storage,
            options: options,
            random: &random
        )
        var batches: [[LogIndex]] = []
        while let ready = node.ready() {
            batches.append(ready.committedEntries.map(\.index))
            node.advance(ready)
        }
        #expect(batches == [[LogIndex(1), LogIndex(2)], [LogIndex(3), LogIndex(4)], [LogIndex(5)]])
        #expect(node.appliedIndex == LogIndex(5))
    }

    @Test("after a compaction the node restarts from the storage's snapshot and sends it to a follower behind it")
    func compactionSurvivesRestart() throws {
        var cluster = TestCluster(voters: 3, options: Self.classic)
        cluster.elect(1)
        cluster.partition = [[NodeID(1), NodeID(2)], [NodeID(3)]]
        for value in 0..<6 { try cluster[1].propose(kind: .records, payload: [UInt8(value)]) }
        cluster.stabilize()
        try cluster[1].compact(through: LogIndex(5), state: [0xCD])
        let snapshot = try #require(cluster[1].snapshot)
        cluster.storage[NodeID(1)]?.compact(to: snapshot)
        // Restart node 1 from its storage alone.
        cluster.add(NodeID(1), configuration: Self.configuration)
        #expect(cluster[1].log.snapshotIndex == LogIndex(5) && cluster[1].snapshot?.state == [0xCD])
        #expect(cluster[1].log.lastIndex == LogIndex(7) && cluster[1].log.unstable.isEmpty)
        cluster.partition = nil
        cluster.elect(1)
        #expect(cluster[1].role == .leader)
        #expect(cluster.storage[NodeID(3)]?.snapshot?.state == [0xCD])
        #expect(cluster[3].log.lastIndex == cluster[1].log.lastIndex)
        #expect(cluster[3].log.entry(at: LogIndex(7))?.payload == [5])
    }
}
