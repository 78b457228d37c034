import RillModel
import RillRaft

extension Simulation {
    /// A node's disk: what was synced survives a crash; a write caught by a crash before its sync keeps at most
    /// a torn prefix of its entries and loses its hard state.
    public struct Disk: Sendable {
        /// The synced state a restart recovers.
        public private(set) var durable = Raft.PersistentState()

        /// Writes and syncs a Ready's snapshot, entries and hard state.
        mutating func persist(_ ready: Raft.Ready) {
            if let snapshot = ready.snapshot {
                durable.snapshot = snapshot
                durable.entries = []
            }
            write(ready.entries)
            if let hardState = ready.hardState { durable.hardState = hardState }
        }

        /// The node compacted its log into `snapshot` (a committed `trim` in the runtime).
        mutating func compact(to snapshot: Raft.Snapshot) {
            let start = durable.snapshot?.index ?? .zero
            guard snapshot.index > start else { return }
            let drop = min(Int(snapshot.index.rawValue - start.rawValue), durable.entries.count)
            durable.entries.removeFirst(drop)
            durable.snapshot = snapshot
        }

        /// A crash between write and sync: only the first `count` entries made it (and no snapshot or hard state).
        mutating func persistTorn(_ ready: Raft.Ready, keeping count: Int) {
            guard ready.snapshot == nil else { return }
            write(Array(ready.entries.prefix(count)))
        }

        private mutating func write(_ entries: [LogEntry]) {
            guard let first = entries.first else { return }
            let start = durable.snapshot?.index ?? .zero
            // Drop stored entries at or after the first new index (a new leader overwrote them).
            let keep = Int(first.index.rawValue - start.rawValue - 1)
            precondition(keep >= 0 && keep <= durable.entries.count, "disk write at \(first.index) leaves a gap")
            durable.entries.removeSubrange(keep...)
            durable.entries.append(contentsOf: entries)
        }
    }
}
