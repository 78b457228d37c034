import Synchronization

/// What the lease loop of `rill archive` and its shard workers share: which leases the worker holds (each shard
/// worker stops when its token is no longer among them), whether the process is stopping, and the totals the
/// reports print.
final class ArchiveControl: Sendable {
    struct Totals: Sendable, Equatable {
        /// User records (a KPL aggregate's count as many) in data objects.
        var records = 0
        /// Record data in data objects, before compression.
        var bytes = 0
        var objects = 0
        var errorRecords = 0
        var errorObjects = 0
    }

    private struct State {
        var held: [String: Int] = [:]
        var stopping = false
        var totals = Totals()
    }

    private let state = Mutex(State())

    func hold(_ leases: [String: Int]) { state.withLock { $0.held = leases } }

    func holds(_ shardID: String, token: Int) -> Bool { state.withLock { $0.held[shardID] == token } }

    func stop() { state.withLock { $0.stopping = true } }

    var isStopping: Bool { state.withLock { $0.stopping } }

    var totals: Totals { state.withLock { $0.totals } }

    func archived(records: Int, bytes: Int) {
        state.withLock {
            $0.totals.records += records
            $0.totals.bytes += bytes
            $0.totals.objects += 1
        }
    }

    func diverted(records: Int) {
        state.withLock {
            $0.totals.errorRecords += records
            $0.totals.errorObjects += 1
        }
    }
}
