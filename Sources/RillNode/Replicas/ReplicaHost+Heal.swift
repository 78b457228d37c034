import Foundation
import RillKinesis
import RillModel
import RillRaft
import RillStorage

/// Healing shards that builds before placement-at-formation created without a placement: each node then led
/// its own copy alone and acknowledged writes into it, so the copies diverged. The controller places such
/// shards (`CatalogCommand.healUnplacedShards`), keeping the copy of the placement's preferred leader; every
/// other node sets its copy aside here and catches up from the kept one as a new member.
extension ReplicaHost {
    /// Written into a copy made after its shard was healed: that copy is the group's, not a diverged one.
    static let healedMarker = "healed"

    /// Sets aside this node's copy of `shard` if it predates the heal: the copy moves to
    /// `quarantine/<stream-id>/<shard>-<millis>` (never deleted: records only it acknowledged are there), its
    /// Raft state is forgotten, and an empty copy marked `healed` takes its place. Idempotent across crashes:
    /// the state goes first (a copy without state is still set aside), the marker last.
    func setAsideCopyFromBeforeHeal(stream: StreamMetadata, shard: ShardMetadata, directory: String) throws {
        let files = FileManager.default
        let marker = directory + "/" + Self.healedMarker
        guard !files.fileExists(atPath: marker) else { return }
        let group = RaftGroupID.shard(streamID: stream.id, shard: shard.id)
        if files.fileExists(atPath: directory) {
            let recorded = stateLog.states[group]
            try stateLog.forget(group)
            try stateLog.sync()
            let destination =
                "\(configuration.dataDirectory)/quarantine/\(stream.id)/\(shard.id.name)-\(clock.nowMillis())"
            try DurableDirectory.move(directory, to: destination)
            metrics.cluster.copySetAside()
            logger.warning(
                "this node's copy of a shard that was never replicated diverged from the copy kept; it is set aside and the shard catches up from the kept copy",
                metadata: [
                    "rill.stream": "\(stream.name)", "rill.shard": "\(shard.id)", "kept": "\(shard.healedFrom ?? 0)",
                    "path": "\(destination)", "lastIndex": "\(recorded?.durableIndex.rawValue ?? 0)",
                    "lost":
                        "records acknowledged only by this copy are no longer in the stream; they stay in the quarantined folder",
                ]
            )
        }
        try DurableDirectory.make(directory)
        try AtomicFile.write(
            path: marker,
            bytes: Array("copy made after node \(shard.healedFrom ?? 0)'s copy was kept\n".utf8)
        )
    }
}
