/// What the controller (the metadata leader) decides each round, as a pure function of the catalog and of what
/// the node knows about the cluster, so the node (`MembershipController.swift`) and the cluster simulation
/// (`RillTestKit/Cluster`) run the same decisions; the node does the I/O (proposals, calls to shard leaders).
///
/// A round, in order: record the founders as members when the catalog has none (placement needs members),
/// place shards created without a placement, admit nodes that are alive but not members (never a removed one),
/// keep the metadata group at up to three voters in distinct zones with every other member a learner, and step
/// every moving shard's group toward its placed replicas.
public enum ControllerPlan {
    /// One shard whose group moves to `voters` (its placed replicas).
    public struct ShardMove: Sendable, Equatable {
        public var stream: StreamMetadata
        public var shard: ShardMetadata
        public var voters: [UInt64]
    }

    /// The metadata group's target membership.
    public struct GroupTarget: Sendable, Equatable {
        public var voters: [UInt64]
        public var learners: [UInt64]
    }

    /// `setMembers(founders)` while the catalog has no members: the first command a formed cluster needs before
    /// any shard can be placed.
    public static func founding(_ catalog: Catalog, founders: [ClusterMember]) -> CatalogCommand? {
        guard catalog.members.isEmpty, !founders.isEmpty else { return nil }
        return .setMembers(founders.sorted { $0.id < $1.id })
    }

    /// `healUnplacedShards` when shards lack a placement and the catalog can place them.
    public static func healing(_ catalog: Catalog) -> CatalogCommand? {
        guard !catalog.unplacedShards.isEmpty, catalog.canPlace else { return nil }
        return .healUnplacedShards
    }

    /// Nodes seen alive that the catalog does not list: `admit` become members; `refused` were removed and are
    /// not taken back (the node logs them).
    public static func admissions(
        _ catalog: Catalog,
        alive: [ClusterMember]
    ) -> (admit: [CatalogCommand], refused: [UInt64]) {
        var admit: [CatalogCommand] = []
        var refused: [UInt64] = []
        for member in alive where !catalog.members.contains(where: { $0.id == member.id }) {
            if catalog.removedMembers.contains(member.id) {
                refused.append(member.id)
            } else {
                admit.append(.addMember(member))
            }
        }
        return (admit, refused)
    }

    /// The metadata group's target: up to three voters in distinct zones (keeping `currentVoters` where it can)
    /// and every other member a learner, so every node holds the catalog. A removed node stays a learner while
    /// shards still move off it: it must read the `finishMove` that lets it delete its copies. nil before the
    /// catalog has members.
    public static func metadataGroup(_ catalog: Catalog, currentVoters: [UInt64]) -> GroupTarget? {
        guard !catalog.members.isEmpty else { return nil }
        let voters = Placement.metadataVoters(members: catalog.members, current: currentVoters)
        let leaving = Set(catalog.movingShards.flatMap { $0.shard.leaving ?? [] })
        let learners = Set(catalog.members.map(\.id)).union(leaving).filter { !voters.contains($0) }
        return GroupTarget(voters: voters, learners: learners.sorted())
    }

    /// The moving shards the controller drives this round (at most `limit`), each toward its placed replicas, in
    /// a fixed order (stream id, shard) so a replayed simulation drives the same ones.
    public static func shardMoves(_ catalog: Catalog, limit: Int) -> [ShardMove] {
        catalog.movingShards
            .sorted { ($0.stream.id, $0.shard.index) < ($1.stream.id, $1.shard.index) }
            .compactMap { stream, shard in
                guard let replicas = shard.replicas, !replicas.isEmpty else { return nil }
                return ShardMove(stream: stream, shard: shard, voters: replicas)
            }
            .prefix(limit)
            .map { $0 }
    }

    /// The catalog commands of one round, in the order the node proposes them, each decided on the catalog as
    /// the ones before it leave it (the node reads its catalog again after each commit; `Catalog.apply` is pure,
    /// so a copy shows the same).
    public static func commands(catalog: Catalog, founders: [ClusterMember], alive: [ClusterMember]) -> [CatalogCommand]
    {
        var scratch = catalog
        var commands: [CatalogCommand] = []
        func take(_ command: CatalogCommand) {
            commands.append(command)
            _ = scratch.apply(command, at: scratch.appliedIndex)
        }
        if let command = founding(scratch, founders: founders) { take(command) }
        if let command = healing(scratch) { take(command) }
        // The node decides every admission on one catalog, as here.
        for command in admissions(scratch, alive: alive).admit { take(command) }
        return commands
    }
}
