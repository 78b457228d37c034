/// Raft consensus as a pure state machine: one instance per shard group and one for the metadata group.
///
/// `Raft.Core` is a value with no clocks, sockets, files or threads (etcd-io/raft's RawNode). The shell owns one
/// node per group and drives it serially:
///
/// ```swift
/// node.tick()                      // every tick of the injected clock
/// node.step(message)               // every message from a peer of this group
/// try node.propose(kind: .records, payload: batch, timestampMillis: now)
/// while let ready = node.ready() { // then, in this order:
///     send(ready.messages)                    // a leader's appends may leave before its own write
///     storage.write(ready.snapshot, ready.entries); save(ready.hardState); sync()
///     send(ready.messagesAfterPersist)        // votes and acknowledgements promise durable state
///     apply(ready.snapshot, ready.committedEntries)
///     node.advance(ready)                     // reports durability: the leader now counts itself
/// }
/// ```
///
/// Implemented: elections with randomized timeouts and pre-vote (thesis §9.6), check-quorum and the leader
/// lease on votes (thesis §6.2), replication with pipelining and fast conflict back-off (Raft §5.3), the commit
/// rule for the leader's own term (Raft §5.4.2), leadership transfer (thesis §3.10), learners and single-server
/// membership changes (thesis §4.1), log compaction and InstallSnapshot (Raft §7).
///
/// The log lives in `Raft.RaftLog`: the stable entries in a shell-provided `Raft.LogStorage` (the segmented log
/// in the runtime, `Raft.MemoryStorage` in tests), only the unstable tail in memory. The shell writes each
/// Ready's snapshot and entries to that storage before calling `advance` (see `Raft.LogStorage`).
/// Log-worthy events are values: `Ready.softState` carries role and leader changes.
public enum Raft {}
