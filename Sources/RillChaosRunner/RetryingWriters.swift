/// How the workload's writers treat a call whose outcome they do not know (`rill chaos --retrying-writers`).
///
/// Off (nil in `ChaosConfiguration`), a writer sends each record once and records what it learned, as Jepsen's
/// clients do. On, it sends a record again, through any node, while it does not know whether it was stored
/// (a timeout, a lost connection, a 5xx, `InternalFailure`) or was throttled after such an attempt, until it is
/// acknowledged, refused for a reason a retry cannot fix, or the run ends; every attempt is in the history.
public enum RetryingWriters: String, Sendable, CaseIterable {
    /// Retries carry the record's idempotent-producer id and number (docs/producers.md): the shard must store
    /// each record once, so any second copy is an anomaly.
    case idempotent
    /// Retries are plain Kinesis calls: a record may be stored once per attempt, as on Kinesis; the checker
    /// counts those copies and does not report them.
    case plain
}
