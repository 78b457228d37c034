import Synchronization

/// Chaos hooks of the storage layer: with `loseUnsyncedWrites` on, a `kill -9` of the process loses what a
/// power cut would, namely every byte written but not yet fsynced.
///
/// Without the hooks a killed process loses nothing: its writes already sit in the kernel's page cache, so
/// a crash test could never catch an acknowledgement given before fsync. With them, each file opened after
/// `enableHooks()` keeps unsynced writes in memory (`UnsyncedWrites`) and writes them to the file only in
/// its `sync()`. Process-wide, because a node is a process and its power fails as one.
///
/// Off unless `rill node --fault-injection`: files opened before `enableHooks()` (all of them, in
/// production) carry no buffer and pay one nil check per call.
public enum StorageFaults {
    private static let hooks = Atomic<Bool>(false)
    private static let losing = Atomic<Bool>(false)

    /// Lets files opened from now on lose unsynced writes when asked; call before opening any log.
    public static func enableHooks() {
        hooks.store(true, ordering: .releasing)
    }

    /// Whether files opened now get an unsynced-write buffer.
    static var hooksEnabled: Bool { hooks.load(ordering: .acquiring) }

    /// Whether writes from now on wait in memory for their file's fsync; turning it off lets writes reach
    /// the file again, after what is already buffered (that is written at the file's next sync).
    public static var loseUnsyncedWrites: Bool {
        get { losing.load(ordering: .acquiring) }
        set { losing.store(newValue, ordering: .releasing) }
    }
}
