import RillModel
import RillRaft
import RillStorage

/// Opening a group's storage, and the calls that steer a running group: campaigns, leadership moves and
/// compaction (proposals and peer messages are in `RaftGroupDriver.swift`).
extension RaftGroupDriver {
    /// Opens the group's log in `directory`, telling recovery how far `stateLog` says it was durable.
    public static func openStorage(
        group: RaftGroupID,
        directory: String,
        stateLog: RaftStateLog,
        options: SegmentedLog.Options = SegmentedLog.Options(),
        fileSystem: any FileSystem = PosixFileSystem()
    ) throws(StorageError) -> SegmentedLogStorage {
        let durable = stateLog.states[group]?.durableIndex ?? .zero
        let log = try SegmentedLog.open(
            directory: directory,
            options: options,
            durableIndex: durable,
            fileSystem: fileSystem
        )
        return try SegmentedLogStorage(log: log)
    }

    /// Whether this member leads and `peer` holds everything it has: a leadership move to it is quick.
    public func isCaughtUp(_ peer: NodeID) -> Bool {
        node.role == .leader && node.progress[peer]?.match == node.log.lastIndex
    }

    /// Hands leadership to `target` (thesis §3.10); proposals are refused until it completes or times out.
    public func transferLeadership(to target: NodeID) {
        guard running else { return }
        resume()
        do {
            try node.transferLeadership(to: target)
        } catch {
            return
        }
        wake.yield()
    }

    /// Starts an election now.
    public func campaign() {
        guard running else { return }
        resume()
        node.campaign()
        wake.yield()
    }

    /// Moves the group's log start to `index`: the core forgets entries before it and the storage drops the
    /// whole segments below it. Only applied entries may go (the retention `trim` entry must have been applied).
    /// `state` is the application's state to keep with the log start (a shard's producer window), taken at or
    /// after the new start: it is what a restart, or a follower sent this snapshot, starts from before applying
    /// the retained entries again, so applying an entry twice must change nothing.
    public func compact(before index: LogIndex, state: [UInt8] = []) throws {
        let through = index.previous
        guard through > node.log.snapshotIndex else { return }
        try node.compact(through: through, state: state)
        if let snapshot = node.snapshot { try storage.compact(to: snapshot) }
    }

    /// `compact(before:)` for a follower applying the leader's `trim` entry, where nobody waits for an answer: a
    /// storage error stops the group as one in a Ready does (a log it could not trim durably may be damaged),
    /// rather than vanishing.
    public func compactOrHalt(before index: LogIndex, state: [UInt8] = []) {
        do {
            try compact(before: index, state: state)
        } catch let error as StorageError {
            halt(error)
        } catch {
            logger.error("compaction refused by the raft core", metadata: ["error": "\(error)", "index": "\(index)"])
        }
    }
}
