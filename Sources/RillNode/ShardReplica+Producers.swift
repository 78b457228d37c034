import Logging
import RillCluster
import RillKinesis
import RillModel
import RillRaft
import Synchronization

/// Idempotent producers on a shard (docs/producers.md): a record whose producer sequence is already committed is
/// answered with its first position instead of being stored again, and a retry of a record still in flight waits
/// for the original. The window is replicated state: every replica derives it from the `records` entries as they
/// apply and from snapshots, so it survives leader changes, restarts and compaction.
extension ShardReplica {
    /// What became of each record of an idempotent producer's batch, in batch order.
    typealias ProducerOutcomes = [Result<RecordPosition, KinesisError>]

    /// Appends the records of `payload` (an encoded `RecordBatch` that carries a `ProducerStamp`) that this shard
    /// has not committed yet, as one `records` entry, and answers every record with its position: the new one,
    /// or the one its first copy got. When every record is new (the common case) the bytes are proposed as they
    /// came, neither decoded nor encoded again.
    ///
    /// Served only by a leader that has applied an entry of its own term: by then every record an earlier leader
    /// proposed is committed and in the window, or never will be, so the window and this leader's own records in
    /// flight are everything that could hold a copy. A shard made by a reshard first takes over its parents'
    /// final windows (`parentWindows`, asked only until that is done), so a retry of a record a parent stored
    /// is answered with the parent's copy.
    ///
    /// - Throws: `Sealed` (nothing written), `Redirect` when this member cannot serve producers now (nothing
    ///   written), or what proposing throws when the outcome of every new record is the same failure.
    func appendOnce(
        encoded payload: [UInt8],
        stampMillis: Int64,
        parentWindows: @escaping @Sendable () async throws -> ProducerWindow
    ) async throws -> ProducerOutcomes {
        let invalid = KinesisError.internalFailure("a producer batch without one producer sequence per record")
        // Malformed, or a plain batch: either way not a producer's.
        guard let stamp = try? RecordBatch.producerStamp(ofWellFormed: payload) else { throw invalid }
        guard !isClosedToWrites else { throw Sealed() }
        let term = try await servingTerm()
        try await takeOverParentWindows(inTerm: term, parentWindows)
        enum Plan {
            case answered(Result<RecordPosition, KinesisError>)
            case waiting(InFlightTicket)
            case proposing
        }
        let ticket = InFlightTicket()
        var plans: [Plan] = []
        plans.reserveCapacity(stamp.sequences.count)
        var fresh: [Int] = []
        fresh.reserveCapacity(stamp.sequences.count)
        producers.withLock { state in
            let verdicts = state.window.verdicts(producer: stamp.producerID, sequences: stamp.sequences)
            let originals = state.inFlight.tickets(producer: stamp.producerID, sequences: stamp.sequences)
            for (slot, verdict) in verdicts.enumerated() {
                switch verdict {
                case .duplicate(let position):
                    plans.append(.answered(.success(position)))
                case .tooOld(let forgotten):
                    plans.append(.answered(.failure(Self.tooOld(stamp.sequences[slot], forgotten: forgotten))))
                case .new:
                    if let original = originals[slot] {
                        plans.append(.waiting(original))
                    } else {
                        plans.append(.proposing)
                        fresh.append(slot)
                    }
                }
            }
            state.inFlight.proposed(
                producer: stamp.producerID,
                sequences: fresh.map { stamp.sequences[$0] },
                ticket: ticket
            )
        }
        var proposed: InFlightTicket.Proposed?
        var failure: KinesisError?
        if !fresh.isEmpty {
            let freshSequences = fresh.map { stamp.sequences[$0] }
            // Every path finishes the ticket and settles the records, so no retry waits forever.
            defer {
                ticket.finish(proposed)
                producers.withLock { state in
                    state.inFlight.settled(producer: stamp.producerID, sequences: freshSequences)
                }
            }
            do {
                let entry = fresh.count == stamp.sequences.count ? payload : try Self.subset(payload, fresh, stamp)
                let index = try await propose(.records, try sealed(entry), stampMillis, inTerm: term)
                // Ordered after a seal: committed but never readable, and left out of the window. Route again.
                if let seal = sealIndex, index > seal { throw Sealed() }
                proposed = InFlightTicket.Proposed(index: index, stampMillis: stampMillis, sequences: freshSequences)
            } catch let error as KinesisError {
                failure = error
            }
        }
        var outcomes: ProducerOutcomes = []
        outcomes.reserveCapacity(plans.count)
        var entrySlot: UInt16 = 0
        for (slot, plan) in plans.enumerated() {
            switch plan {
            case .answered(let result):
                outcomes.append(result)
            case .proposing:
                // The fresh records sit in the entry in request order.
                if let proposed {
                    outcomes.append(
                        .success(RecordPosition(index: proposed.index, slot: entrySlot, stampMillis: stampMillis))
                    )
                } else {
                    outcomes.append(.failure(failure ?? .internalFailure()))
                }
                entrySlot += 1
            case .waiting(let original):
                if let position = await original.outcome()?.position(of: stamp.sequences[slot]) {
                    outcomes.append(.success(position))
                } else {
                    outcomes.append(
                        .failure(
                            .internalFailure(
                                "An earlier attempt of this record did not complete; its outcome is unknown. Retry."
                            )
                        )
                    )
                }
            }
        }
        return outcomes
    }

    /// The records at `slots` of an encoded producer batch, encoded as one batch (a retry mixed with new records:
    /// only the new ones are stored).
    private static func subset(_ payload: [UInt8], _ slots: [Int], _ stamp: ProducerStamp) throws -> [UInt8] {
        let batch: RecordBatch
        do {
            batch = try RecordBatch(decoding: payload)
        } catch {
            throw KinesisError.internalFailure("malformed record batch")
        }
        return RecordBatch(records: slots.map { batch.records[$0] }, producer: stamp.subset(slots)).encoded()
    }

    /// Makes sure the parents' final windows are part of this shard's window before any producer record is
    /// judged: proposes them as one entry (`ProducerInheritance`) in `term` unless an applied entry already
    /// brought them. Concurrent callers share one taking over. Every replica applies the entry, so a new leader
    /// finds the window `inherited` and a restart or a snapshot rebuilds it.
    ///
    /// - Throws: when the parents' windows cannot be read (their replicas are out of reach or behind their
    ///   seal) or the entry did not commit in `term`: nothing was written, the producer retries.
    private func takeOverParentWindows(
        inTerm term: Term,
        _ parentWindows: @escaping @Sendable () async throws -> ProducerWindow
    ) async throws {
        guard !parents.isEmpty, !producers.withLock({ $0.window.inherited }) else { return }
        let takeOver = takingOver.withLock { current in
            if let current { return current }
            let started = Task {
                let window = try await parentWindows()
                _ = try await self.propose(.noop, ProducerInheritance.payload(window), 0, inTerm: term)
            }
            current = started
            return started
        }
        let result = await takeOver.result
        takingOver.withLock { current in
            if current == takeOver { current = nil }
        }
        try result.get()
        guard producers.withLock({ $0.window.inherited }) else {
            throw KinesisError.internalFailure(
                "The shard has not taken over the producer windows of the shards it was made from yet; retry."
            )
        }
        logger.debug("took over the producer windows of the parent shards", metadata: ["parents": "\(parents)"])
    }

    /// Applies an entry through which this shard takes over its parents' windows (every replica, in log order).
    func applyInheritance(_ entry: LogEntry) {
        let inherited: ProducerWindow?
        do {
            inherited = try ProducerInheritance.window(fromPayload: entry.payload)
        } catch {
            // The leader proposes again (its shard is not marked inherited), so producers wait rather than
            // store a retry twice.
            logger.error("a noop entry carries an unreadable producer window", metadata: ["index": "\(entry.index)"])
            return
        }
        guard let inherited else { return }
        producers.withLock { $0.window.inherit([inherited]) }
    }

    /// This replica's window once it is final at `seal`: the shard is sealed there and the seal is applied, so
    /// no record will enter it again. nil before that.
    func finalProducerWindow(sealedAt seal: LogIndex) -> ProducerWindow? {
        guard sealIndex == seal, committedIndex >= seal else { return nil }
        return producers.withLock { $0.window }
    }

    /// The term this member leads in, once it has applied an entry of it. A leader just elected commits its
    /// first entry within a round trip and a flush, so it is waited for (bounded); a follower redirects.
    private func servingTerm() async throws -> Term {
        let deadline = ContinuousClock.now + .seconds(2)
        while true {
            if let term = await driver.servingTerm { return term }
            let leadership = await driver.leadership
            guard leadership.role == .leader, ContinuousClock.now < deadline else {
                // The forwarder tries again (a node's own call: this node, when it leads).
                throw Redirect(hint: leadership.role == .leader ? driver.id : leadership.leader)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The window as snapshot state, for compaction.
    func producerSnapshot() -> [UInt8] {
        producers.withLock { $0.window.encoded() }
    }

    /// A snapshot from the leader replaced the log: the window is the snapshot's (entries after it apply on top).
    func restore(_ snapshot: Raft.Snapshot) {
        let window = Self.window(fromSnapshot: snapshot.state, logger: logger)
        producers.withLock { $0.window = window }
    }

    /// Learns the producer sequences of a committed `records` entry (every replica, in log order). A plain
    /// batch costs a look at its first byte.
    func applyProducers(_ entry: LogEntry) {
        let stamp: ProducerStamp?
        do {
            stamp = try RecordBatch.producerStamp(ofWellFormed: entry.payload)
        } catch {
            logger.error("a records entry has a malformed producer stamp", metadata: ["index": "\(entry.index)"])
            return
        }
        guard let stamp else { return }
        // Records after a seal are never readable, so they were never stored: a retry must go to the child shard.
        if let seal = sealIndex, entry.index > seal { return }
        let repeated = producers.withLock { state in
            state.window.advance(toMillis: entry.timestampMillis)
            return state.window.apply(
                producer: stamp.producerID,
                sequences: stamp.sequences,
                index: entry.index,
                stampMillis: entry.timestampMillis
            )
        }
        if repeated > 0 {
            // Entries replayed over a window that already holds them (at start, after a snapshot) land here.
            logger.debug("producer records already in the window", metadata: ["index": "\(entry.index)"])
        }
    }

    static func window(fromSnapshot state: [UInt8], logger: Logger) -> ProducerWindow {
        do {
            return try ProducerWindow(decoding: state)
        } catch {
            // Forgetting producers can let a retry be stored twice; it never loses a record.
            logger.error("the snapshot's producer window is unreadable; starting with none")
            return ProducerWindow()
        }
    }

    static func tooOld(_ sequence: UInt64, forgotten: UInt64) -> KinesisError {
        KinesisError(
            .invalidArgument,
            "Producer sequence \(sequence) is older than the shard remembers (it forgot through \(forgotten)); "
                + "whether it was stored cannot be told."
        )
    }
}
