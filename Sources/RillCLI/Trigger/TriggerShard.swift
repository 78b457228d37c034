import RillClient
import RillKinesis

/// One leased shard as `rill trigger` works it: the lease's token, the pure `ShardTrigger` that decides what to
/// invoke and what is finished, and where reading and checkpointing stand. The runner owns these; only its loop
/// touches them.
struct TriggerShard {
    /// The lease's fencing token; events tagged with another token belong to an earlier tenure and are dropped.
    let token: Int
    var core: ShardTrigger
    /// Where the shard starts: after the checkpoint, or the group's initial position.
    let start: ShardLineage.StartPosition
    let startAfter: String?
    var iterator: String?
    /// A GetShardIterator or GetRecords is in flight or scheduled.
    var reading = false
    /// The last record offered to the core: an expired iterator resumes after it.
    var lastRead: String?
    var pacer = PollPacer()
    /// The earliest time (since the runner's origin) the next GetRecords may go, from the pacer.
    var nextPollAt: Duration = .zero
    var readFailures = 0
    /// The Limit of the GetRecords in flight: a full page means more is waiting, whatever MillisBehindLatest says
    /// (records put together arrive together, so the tip can be 0 ms ahead of a page that is not the last).
    var requested = 0
    /// The closed shard is read to its end (GetRecords gave no next iterator).
    var atEnd = false
    /// The last checkpoint the group accepted.
    var checkpointed: String?
    var checkpointing = false
    /// Invocations running for this shard.
    var invoking = 0

    init(lease: KinesisClient.GroupLease, settings: ShardTrigger.Settings, initial: ShardLineage.StartPosition) {
        token = lease.token
        core = ShardTrigger(settings: settings)
        start = initial
        startAfter = lease.checkpoint
        checkpointed = lease.checkpoint
    }

    /// What to checkpoint now, if anything: the core's finished prefix when it moved, or the shard's end once
    /// the closed shard is read and everything in it is finished. `.some(nil)` is the shard's end.
    var checkpointDue: String?? {
        guard !checkpointing else { return nil }
        if let checkpoint = core.checkpoint, checkpoint != checkpointed { return .some(checkpoint) }
        if atEnd, core.isDrained, invoking == 0 { return .some(nil) }
        return nil
    }
}
