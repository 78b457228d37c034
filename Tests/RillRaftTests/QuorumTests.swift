import RillModel
import RillRaft
import Testing

/// Majority rules as tables (etcd-io/raft `quorum/testdata/majority_commit.txt`).
@Suite struct QuorumTests {
    @Test(
        "Raft §5.3: the commit index is the highest index a majority holds",
        arguments: [
            ([], [], 0),
            ([1], [7], 7),
            ([1, 2], [7, 3], 3),
            ([1, 2, 3], [7, 3, 5], 5),
            ([1, 2, 3], [7, 0, 0], 0),
            ([1, 2, 3, 4], [9, 8, 2, 1], 2),
            ([1, 2, 3, 4, 5], [9, 8, 7, 1, 1], 7),
            ([1, 2, 3, 4, 5], [9, 8, 1, 1, 1], 1),
        ] as [([UInt64], [UInt64], UInt64)]
    )
    func committedIndex(voters: [UInt64], matches: [UInt64], expected: UInt64) {
        var match: [NodeID: LogIndex] = [:]
        for (voter, index) in zip(voters, matches) { match[NodeID(voter)] = LogIndex(index) }
        let ids = Set(voters.map { NodeID($0) })
        #expect(Raft.Quorum.committedIndex(voters: ids, match: match) == LogIndex(expected))
    }

    @Test(
        "Raft §5.2: a candidate wins with a majority of votes, loses once a majority refuses",
        arguments: [
            ([1], [1: true], Raft.Quorum.VoteResult.won),
            ([1, 2, 3], [1: true], .pending),
            ([1, 2, 3], [1: true, 2: true], .won),
            ([1, 2, 3], [1: true, 2: false], .pending),
            ([1, 2, 3], [1: true, 2: false, 3: false], .lost),
            ([1, 2, 3, 4], [1: true, 2: true], .pending),
            ([1, 2, 3, 4], [1: true, 2: false, 3: false], .lost),
            ([1, 2, 3, 4, 5], [1: true, 2: true, 3: true], .won),
            // Votes of non-voters (learners, removed servers) never count.
            ([1, 2, 3], [1: true, 9: true], .pending),
        ] as [([UInt64], [UInt64: Bool], Raft.Quorum.VoteResult)]
    )
    func voteResult(voters: [UInt64], votes: [UInt64: Bool], expected: Raft.Quorum.VoteResult) {
        let tally = Dictionary(uniqueKeysWithValues: votes.map { (NodeID($0.key), $0.value) })
        let ids = Set(voters.map { NodeID($0) })
        #expect(Raft.Quorum.voteResult(voters: ids, votes: tally) == expected)
    }
}
