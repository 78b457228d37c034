import RillModel
import RillRaft

extension Simulation {
    /// A node's disk: what was synced survives a crash; a write caught by a crash before its sync keeps at most
    /// a torn prefix of its entries and loses its hard state.
    ///
    /// The log lives in a `Raft.MemoryStorage` that the node reads through its `Raft.LogStorage` seam: the shell
    /// writes each Ready into it before `advance`, and a restarted node is built from `hardState` and `storage`
    /// alone. Writes here are synchronous and synced, so the storage holds exactly what survives a crash.
    public struct Disk: Sendable {
        /// The node's stable log (and its snapshot), shared with the live node that reads it.
        public let storage = Raft.MemoryStorage()
        /// The synced term, vote and commit a restart recovers.
        public private(set) var hardState = Raft.HardState()

        /// Writes and syncs a Ready's snapshot, entries and hard state.
        mutating func persist(_ ready: Raft.Ready) {
            if let snapshot = ready.snapshot { storage.applySnapshot(snapshot) }
            storage.append(ready.entries)
            if let hardState = ready.hardState { self.hardState = hardState }
        }

        /// The node compacted its log into `snapshot` (a committed `trim` in the runtime).
        func compact(to snapshot: Raft.Snapshot) {
            storage.compact(to: snapshot)
        }

        /// A crash between write and sync: only the first `count` entries made it (and no snapshot or hard state).
        func persistTorn(_ ready: Raft.Ready, keeping count: Int) {
            guard ready.snapshot == nil else { return }
            storage.append(Array(ready.entries.prefix(count)))
        }
    }
}
