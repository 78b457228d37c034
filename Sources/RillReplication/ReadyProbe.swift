import RillRaft

/// Watches a driver perform its Readys: the simulation's checker (RillTestKit) sees exactly what the real
/// driver hands to storage and when, rather than a copy of the driver's loop. Both calls run on the driver's
/// actor, synchronously, so they must be cheap and must not call back into the driver. Nodes pass none.
public struct ReadyProbe: Sendable {
    /// A Ready was taken from the core, before anything of it was sent or written; `node` is the core then.
    public var taken: @Sendable (Raft.Ready, Raft.Core) -> Void
    /// The Ready's snapshot, entries and hard state were written (not yet synced); `node` is the core then.
    public var written: @Sendable (Raft.Ready, Raft.Core) -> Void

    public init(
        taken: @escaping @Sendable (Raft.Ready, Raft.Core) -> Void,
        written: @escaping @Sendable (Raft.Ready, Raft.Core) -> Void
    ) {
        self.taken = taken
        self.written = written
    }
}
