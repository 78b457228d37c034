import RillChaos
import Testing

@testable import RillChaosRunner

@Suite struct ClusterHealthTests {
    private let shards = ["shardId-000000000000", "shardId-000000000001"]

    private func status(node: Int, abstaining: Bool = false, leader: Int? = 1, shards: [String]? = nil) -> NodeStatus {
        var groups = [
            NodeStatus.Group(
                group: "meta",
                stream: nil,
                shard: nil,
                role: "follower",
                leader: 1,
                term: 2,
                commit: 9,
                applied: 9,
                abstaining: false
            )
        ]
        for shard in shards ?? self.shards {
            groups.append(
                NodeStatus.Group(
                    group: "s/\(shard)",
                    stream: "chaos",
                    shard: shard,
                    role: "follower",
                    leader: leader,
                    term: 3,
                    commit: 40,
                    applied: 40,
                    abstaining: abstaining
                )
            )
        }
        return NodeStatus(node: node, groups: groups)
    }

    @Test func aWholeClusterHasNoProblem() {
        let statuses: [Int: NodeStatus?] = [1: status(node: 1), 2: status(node: 2), 3: status(node: 3)]
        #expect(ClusterHealth.problem(statuses: statuses, ids: [1, 2, 3], stream: "chaos", shards: shards) == nil)
    }

    @Test func aSilentNodeAnAbstainingReplicaOrAMissingReplicaIsNotWhole() {
        let silent: [Int: NodeStatus?] = [1: status(node: 1), 2: NodeStatus?.none, 3: status(node: 3)]
        #expect(ClusterHealth.problem(statuses: silent, ids: [1, 2, 3], stream: "chaos", shards: shards) != nil)
        let abstaining: [Int: NodeStatus?] = [
            1: status(node: 1), 2: status(node: 2, abstaining: true), 3: status(node: 3),
        ]
        #expect(ClusterHealth.problem(statuses: abstaining, ids: [1, 2, 3], stream: "chaos", shards: shards) != nil)
        let wiped: [Int: NodeStatus?] = [1: status(node: 1), 2: status(node: 2, shards: []), 3: status(node: 3)]
        #expect(ClusterHealth.problem(statuses: wiped, ids: [1, 2, 3], stream: "chaos", shards: shards) != nil)
        let leaderless: [Int: NodeStatus?] = [1: status(node: 1), 2: status(node: 2, leader: nil), 3: status(node: 3)]
        #expect(ClusterHealth.problem(statuses: leaderless, ids: [1, 2, 3], stream: "chaos", shards: shards) != nil)
    }

    private func checksum(_ shard: String, applied: UInt64, sha: String = "aa", records: Int = 10) -> ShardChecksum {
        ShardChecksum(shard: shard, applied: applied, sha256: sha, records: records)
    }

    @Test func replicasConvergeOnlyWhenEveryReplicaAgrees() {
        let same = shards.map { checksum($0, applied: 40) }
        let agreed: [Int: [ShardChecksum]?] = [1: same, 2: same, 3: same]
        #expect(ClusterHealth.divergence(checksums: agreed, ids: [1, 2, 3], shards: shards) == nil)

        let behind = [checksum(shards[0], applied: 39), checksum(shards[1], applied: 40)]
        let lagging: [Int: [ShardChecksum]?] = [1: same, 2: behind, 3: same]
        #expect(ClusterHealth.divergence(checksums: lagging, ids: [1, 2, 3], shards: shards) != nil)

        let different = [checksum(shards[0], applied: 40, sha: "bb"), checksum(shards[1], applied: 40)]
        let diverged: [Int: [ShardChecksum]?] = [1: same, 2: different, 3: same]
        #expect(ClusterHealth.divergence(checksums: diverged, ids: [1, 2, 3], shards: shards) != nil)

        let missing: [Int: [ShardChecksum]?] = [1: same, 2: [checksum(shards[0], applied: 40)], 3: same]
        #expect(ClusterHealth.divergence(checksums: missing, ids: [1, 2, 3], shards: shards) != nil)
    }

    /// Node 3 replaced by node 4: complete only once every member lists it as removed, nothing moves, and no
    /// group keeps it as a voter or learner.
    @Test func aReplacementIsCompleteOnlyOnceTheRemovedNodeIsInNoGroupAndNothingMoves() {
        func member(_ node: Int, removed: [Int] = [3], moving: Int = 0, voters: [Int] = [1, 2, 4]) -> NodeStatus {
            var status = status(node: node)
            status.removedNodes = removed
            status.movingShards = moving
            for index in status.groups.indices { status.groups[index].voters = voters }
            return status
        }
        let done: [Int: NodeStatus?] = [1: member(1), 2: member(2), 4: member(4)]
        #expect(ClusterHealth.replacementProblem(statuses: done, ids: [1, 2, 4], removed: 3) == nil)

        let notYetRemoved: [Int: NodeStatus?] = [1: member(1), 2: member(2, removed: []), 4: member(4)]
        #expect(ClusterHealth.replacementProblem(statuses: notYetRemoved, ids: [1, 2, 4], removed: 3) != nil)
        let moving: [Int: NodeStatus?] = [1: member(1, moving: 2), 2: member(2), 4: member(4)]
        #expect(ClusterHealth.replacementProblem(statuses: moving, ids: [1, 2, 4], removed: 3) != nil)
        let stillVoting: [Int: NodeStatus?] = [1: member(1), 2: member(2, voters: [1, 2, 3, 4]), 4: member(4)]
        #expect(ClusterHealth.replacementProblem(statuses: stillVoting, ids: [1, 2, 4], removed: 3) != nil)
        var learning = member(4)
        learning.groups[0].learners = [3]
        let stillLearning: [Int: NodeStatus?] = [1: member(1), 2: member(2), 4: learning]
        #expect(ClusterHealth.replacementProblem(statuses: stillLearning, ids: [1, 2, 4], removed: 3) != nil)
        let silent: [Int: NodeStatus?] = [1: member(1), 2: NodeStatus?.none, 4: member(4)]
        #expect(ClusterHealth.replacementProblem(statuses: silent, ids: [1, 2, 4], removed: 3) != nil)
    }
}
