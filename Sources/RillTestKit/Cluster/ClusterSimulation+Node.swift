import RillKinesis
import RillModel
import RillRaft

extension ClusterSimulation {
    /// One simulated node: what survives a crash (its disks, one per group, and which copies it made after a
    /// heal) and what does not (its open cores, its catalog, rebuilt by replaying the metadata log).
    struct Node: Sendable {
        let member: ClusterMember
        var up = false
        /// Applied from the metadata group's committed entries, in log order.
        var catalog = Catalog()
        /// The open groups: the metadata group and every shard copy the reconciler opened.
        var groups: [RaftGroupID: Raft.Core] = [:]
        var disks: [RaftGroupID: Simulation.Disk] = [:]
        /// The commit index each open group last reported, for the Raft checker.
        var reportedCommit: [RaftGroupID: LogIndex] = [:]
        /// Copies made after their shard was healed (the runtime's `healed` marker file): not set aside again.
        var healedCopies: Set<RaftGroupID> = []

        var id: UInt64 { member.id }
        var nodeID: NodeID { NodeID(member.id) }

        init(member: ClusterMember) {
            self.member = member
        }

        /// The disk of `group`, made empty on first use.
        mutating func disk(_ group: RaftGroupID) -> Simulation.Disk {
            if let disk = disks[group] { return disk }
            let disk = Simulation.Disk()
            disks[group] = disk
            return disk
        }

        /// What the placement audit reads: each open shard group's configuration.
        var groupViews: [PlacementAudit.GroupView] {
            groups.keys.sorted().compactMap { group in
                guard case .shard(let streamID, let shard) = group, let core = groups[group] else { return nil }
                return PlacementAudit.GroupView(
                    streamID: streamID,
                    shard: shard.index,
                    voters: core.configuration.voters.map(\.rawValue),
                    learners: core.configuration.learners.map(\.rawValue)
                )
            }
        }

        /// Streams in id order: the catalog keeps them in dictionaries, whose order differs per process.
        var streams: [StreamMetadata] { catalog.allStreams.sorted { $0.id < $1.id } }
    }
}
