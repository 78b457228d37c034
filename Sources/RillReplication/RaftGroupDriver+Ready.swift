import Logging
import RillModel
import RillRaft
import RillStorage

/// The processing loop: one `Raft.Ready` at a time, persisted, sent and applied in the order it prescribes.
/// Only the loop `start()` owns calls `handle`, so two Readys are never in flight at once.
extension RaftGroupDriver {
    func processLoop() async {
        for await _ in wakeups {
            // Bounded: each Ready consumes the core's pending work; new work only arrives with events.
            while !Task.isCancelled, failure == nil, let ready = node.ready() {
                await handle(ready)
            }
            if Task.isCancelled || failure != nil { return }
        }
    }

    /// Performs one Ready in the order `Raft.Ready` prescribes, then advances the core.
    func handle(_ ready: Raft.Ready) async {
        if let soft = ready.softState { reportRoleChange(soft, term: node.term) }
        probe?.taken(ready, node)
        // A leader's appends may leave before its own write (thesis §10.2.1); it counts itself only after.
        if !ready.messages.isEmpty { send(ready.messages) }

        // Only files this Ready wrote join the flush round: each is a separate fsync on a storage thread.
        var wroteLog = false
        var wroteState = false
        do {
            if let snapshot = ready.snapshot {
                try storage.applySnapshot(snapshot)
                wroteLog = true
            }
            if !ready.entries.isEmpty {
                try storage.append(ready.entries)
                wroteLog = true
            }
            if let hard = ready.hardState ?? (wroteLog ? node.hardState : nil) {
                // Only what a completed sync covered: claiming this Ready's entries would make a crash before
                // the log's fsync look like damage on restart.
                let durable = min(storage.log.durableIndex, storage.log.lastIndex)
                let record = GroupHardState(
                    term: hard.term,
                    vote: hard.vote,
                    commit: hard.commit,
                    durableIndex: durable
                )
                // Term and vote must be durable before any message that depends on them (Raft §5.2). Commit and
                // the durable index are hints (commit is volatile in Raft; a lagging durable index only weakens
                // damage detection), so they are refreshed every `hintInterval` entries rather than on every
                // Ready, which would add an fsync of the state file to every write.
                // A durable index that went down (a new leader cut this log's unsynced-or-not suffix, Raft §5.3)
                // is recorded at once, in the same round as the cut: left at the old value, a crash after the
                // cut reached the disk would reopen the log "below its durable index" and mark a healthy
                // replica damaged (the simulation found two of three abstaining that way).
                let mustRecord =
                    lastRecorded.map {
                        $0.term != record.term || $0.vote != record.vote || record.durableIndex < $0.durableIndex
                            || record.commit.rawValue >= $0.commit.rawValue + Self.hintInterval
                    } ?? true
                if mustRecord, record != lastRecorded {
                    try stateLog.record([(group, record)])
                    lastRecorded = record
                    wroteState = true
                }
            }
        } catch {
            halt(error)
            return
        }
        probe?.written(ready, node)
        // Votes and acknowledgements promise durable state (Raft §5.2, §5.3): they leave only once it is. The
        // storage thread that finished the round sends them, before this task resumes, rather than waking this
        // task to do it: the follower's acknowledgement is on the path of every write. Messages of later Readys
        // still go after them, since the next Ready starts only once this one resumes.
        let afterPersist = ready.messagesAfterPersist
        let send = self.send
        var onDurable: (@Sendable () -> Void)?
        if !afterPersist.isEmpty { onDurable = { @Sendable in send(afterPersist) } }
        if wroteLog || wroteState {
            var logs: [any DurableFile] = []
            if wroteLog { logs.append(storage.log) }
            if wroteState { logs.append(stateLog) }
            do {
                try await flusher.waitDurable(logs, onDurable: onDurable)
            } catch {
                // Only a shut-down thread pool lands here; nothing was made durable, so nothing may be promised.
                halt(.shutDown)
                return
            }
        } else {
            onDurable?()
        }

        if let snapshot = ready.snapshot {
            reportSnapshotInstalled(snapshot, term: node.term)
            restore(snapshot)
        }
        if !ready.committedEntries.isEmpty {
            await apply(ready.committedEntries)
            for entry in ready.committedEntries {
                guard let waiter = waiters.removeValue(forKey: entry.index) else { continue }
                if entry.term == waiter.term {
                    waiter.continuation.resume(returning: entry.index)
                } else {
                    waiter.continuation.resume(throwing: ProposalError.superseded(index: entry.index))
                }
            }
        }
        node.advance(ready)

        // A proposal from a lost term may still commit under the next leader, or be overwritten: indeterminate.
        if node.role != .leader { failWaiters { .indeterminate(index: $0) } }
    }

    /// Stops the group after a storage error: it can no longer persist, so it must neither vote nor acknowledge.
    func halt(_ error: StorageError) {
        logger.error(
            "raft group stopped by a storage error",
            metadata: ["raft.term": "\(node.term)", "error": "\(error)"]
        )
        failure = error
        running = false
        failWaiters { .indeterminate(index: $0) }
    }

    func failWaiters(_ reason: (LogIndex) -> ProposalError) {
        let pending = waiters
        waiters = [:]
        for (index, waiter) in pending { waiter.continuation.resume(throwing: reason(index)) }
    }
}
