import Crypto
import Foundation
import Logging
import RillCluster
import RillKinesis
import RillModel
import RillRaft
import RillReplication
import RillStorage
import Synchronization

/// One shard's replica on this node: its Raft group (one voter per zone, or this node alone) and the
/// state readers need without an actor hop — the applied index and where the shard was sealed.
final class ShardReplica: Sendable {
    let streamID: String
    let shard: ShardID
    let epoch: UInt64
    let driver: RaftGroupDriver
    /// The last compaction started by applying a `trim` entry; awaited by `stop()`.
    private let compaction = Mutex<Task<Void, Never>?>(nil)
    /// The shard's record log, which is its Raft log.
    var log: SegmentedLog { driver.storage.log }
    /// The highest index applied here: readers never go past it.
    private let applied = Mutex<LogIndex>(.zero)
    /// Where a `seal` entry closed the shard; no record after it is ever visible.
    private let sealedAt = Mutex<LogIndex?>(nil)
    /// Set while a seal is being proposed, so that no new record is proposed behind it.
    private let sealing = Mutex(false)
    /// The log holds a seal the catalog did not show when the replica opened: the catalog may lag (a restarted
    /// node replays it to its last recorded commit) or the reshard may have failed. The shard stays closed
    /// until a catalog known to be current says which (`resolveSeal`).
    private let sealUnconfirmed = Mutex(false)
    /// The idempotent producers' window (replicated: derived from applied entries and snapshots) and, on the
    /// leader, their records in flight. One lock, so judging a record and marking it in flight is one step.
    let producers: Mutex<ProducerState>
    /// The sealed shards this one was made from by a reshard (none for a shard made with its stream): their
    /// final producer windows are taken over before this shard serves producers (`takeOverParentWindows`).
    let parents: [UInt32]
    /// The taking over of the parents' windows while it runs, shared by the producer calls that wait for it;
    /// owned here, cancelled and awaited by `stop()`.
    let takingOver = Mutex<Task<Void, any Error>?>(nil)
    let logger: Logger

    struct ProducerState: Sendable {
        var window: ProducerWindow
        var inFlight = InFlightProducers<InFlightTicket>()
    }

    /// Present while the replica abstains after damage; removed once it caught up.
    static let abstainMarker = "abstaining"
    /// Whether this replica's directory holds `abstainMarker`: set at open, cleared when the controller removes
    /// it (`Node.endAbstentions`), so the controller asks only these replicas rather than every one.
    let hasAbstainMarker = Atomic<Bool>(false)

    /// The replica's directory, for the abstention marker.
    var directory: String { log.directory }

    /// A write refused because the shard is (being) sealed by a reshard. Readers never see such a record, so
    /// the caller may route it again to the shard that now holds its key.
    struct Sealed: Error {}

    /// The apply closure's way back to this replica; cleared at stop to break the cycle.
    private let box: ReplicaBox
    /// The stream's current data key (version and key) when its records are encrypted at rest, else nil; throws
    /// the KMS error when this node cannot unwrap it. Asked on every proposal of records.
    let recordKey: @Sendable () throws -> (UInt32, SymmetricKey)?

    private init(
        streamID: String,
        shard: ShardID,
        epoch: UInt64,
        driver: RaftGroupDriver,
        box: ReplicaBox,
        window: ProducerWindow,
        parents: [UInt32],
        recordKey: @escaping @Sendable () throws -> (UInt32, SymmetricKey)?,
        logger: Logger
    ) {
        self.recordKey = recordKey
        self.streamID = streamID
        self.shard = shard
        self.epoch = epoch
        self.driver = driver
        self.box = box
        self.producers = Mutex(ProducerState(window: window))
        self.parents = parents
        self.logger = logger
    }

    /// Opens the shard's log and starts its group; returns once everything committed before is applied.
    static func open(
        stream: StreamMetadata,
        shard: ShardMetadata,
        directory: String,
        plan: GroupPlan,
        stateLog: RaftStateLog,
        flusher: Flusher,
        segmentBytes: Int,
        logger: Logger,
        registry: GroupRegistry,
        recordKey: @escaping @Sendable () throws -> (UInt32, SymmetricKey)?,
        onSnapshotInstalled: @escaping @Sendable () -> Void
    ) async throws -> ShardReplica {
        let group = RaftGroupID.shard(streamID: stream.id, shard: shard.id)
        var logger = logger
        logger[metadataKey: "rill.stream"] = "\(stream.name)"
        logger[metadataKey: "rill.shard"] = "\(shard.id)"
        let storage = try RaftGroupDriver.openStorage(
            group: group,
            directory: directory,
            stateLog: stateLog,
            options: SegmentedLog.Options(segmentBytes: segmentBytes)
        )
        var plan = plan
        let marker = directory + "/" + Self.abstainMarker
        if case .damaged(let reason, let lastGood) = storage.log.recovery {
            logger.error(
                "shard log damaged; serving entries up to the damage, the rest is in damaged/",
                metadata: ["reason": "\(reason)", "lastGoodIndex": "\(lastGood)"]
            )
            // Entries it acknowledged may be gone: it must not vote until it caught up, across restarts too.
            if !plan.isSoleVoter { try AtomicFile.write(path: marker, bytes: Array("damaged\n".utf8)) }
        }
        if !plan.isSoleVoter, FileManager.default.fileExists(atPath: marker) { plan.abstain = true }
        // The producer window as of the log start; the driver applies the retained entries on top at start.
        let window = Self.window(fromSnapshot: storage.snapshot?.state ?? [], logger: logger)
        let box = ReplicaBox()
        let driver = RaftGroupDriver(
            group: group,
            plan: plan,
            storage: storage,
            stateLog: stateLog,
            flusher: flusher,
            logger: logger,
            onSnapshotInstalled: onSnapshotInstalled,
            apply: { entries in box.replica?.applied(entries) },
            restore: { snapshot in box.replica?.restore(snapshot) }
        )
        let replica = ShardReplica(
            streamID: stream.id,
            shard: shard.id,
            epoch: shard.epoch,
            driver: driver,
            box: box,
            window: window,
            parents: [shard.parent, shard.adjacentParent].compactMap { $0 },
            recordKey: recordKey,
            logger: logger
        )
        box.replica = replica
        replica.hasAbstainMarker.store(
            plan.abstain && FileManager.default.fileExists(atPath: marker),
            ordering: .relaxed
        )
        registry.register(driver)
        do {
            try await driver.start(plan)
        } catch {
            registry.unregister(group)
            await driver.stop()
            throw error
        }
        // The catalog, not the log, says whether the shard is closed: a seal whose reshard never committed
        // is inert. But a catalog that does not show a seal the log holds may only lag: reopening on its word
        // took writes into a sealed parent after a restart (found by `rill chaos --faults reshard,powerloss`).
        // Such a shard stays closed until a current catalog confirms either way.
        if let seal = shard.sealIndex {
            replica.sealedAt.withLock { $0 = LogIndex(seal) }
        } else if let logSeal = replica.sealIndex {
            replica.sealUnconfirmed.withLock { $0 = true }
            logger.info(
                "the log holds a seal the catalog does not show yet; closed to writes until the catalog is current",
                metadata: ["rill.sealIndex": "\(logSeal)"]
            )
        }
        return replica
    }

    func stop() async {
        await compaction.withLock { $0 }?.value
        // Stopping the driver fails the taking over's proposal if it is still waiting for its commit.
        let takeOver = takingOver.withLock { $0 }
        takeOver?.cancel()
        await driver.stop()
        _ = await takeOver?.result
        box.replica = nil
    }

    /// Called by the driver, in order, before any proposal of these entries resumes.
    private func applied(_ entries: [LogEntry]) {
        guard let last = entries.last else { return }
        for entry in entries {
            switch entry.kind {
            case .seal: sealedAt.withLock { $0 = $0 ?? entry.index }
            case .records: applyProducers(entry)
            // A plain noop (a new leader's) has no payload; one with a payload takes over the parents' windows.
            case .noop where !entry.payload.isEmpty: applyInheritance(entry)
            default: break
            }
        }
        // Followers trim when they apply the leader's `trim` entry, never by their own clock. Compaction
        // runs after this Ready (the driver is mid-Ready now); the proposer's own call makes this a no-op.
        if let trim = entries.last(where: { $0.kind == .trim }), let cut = Self.trimIndex(trim.payload) {
            // Owned: `stop()` awaits it; each waits for the one before, so compactions stay in log order.
            // The window as of this entry (past the cut): entries after the cut apply again on it idempotently.
            let (driver, state) = (driver, producerSnapshot())
            compaction.withLock { current in
                let previous = current
                current = Task {
                    await previous?.value
                    await driver.compactOrHalt(before: cut, state: state)
                }
            }
        }
        applied.withLock { $0 = max($0, last.index) }
    }

    /// The last index readers may see: committed and applied.
    var committedIndex: LogIndex { applied.withLock { $0 } }

    /// Appends one `records` entry holding `batch`; returns its index once it is committed (on disk on a
    /// majority — today, this node).
    func append(_ batch: RecordBatch, stampMillis: Int64) async throws -> LogIndex {
        try await append(encoded: batch.encoded(), stampMillis: stampMillis)
    }

    /// `append(_:stampMillis:)` for a batch already encoded (by the node that forwarded it).
    func append(encoded payload: [UInt8], stampMillis: Int64) async throws -> LogIndex {
        guard !sealing.withLock({ $0 }), sealedAt.withLock({ $0 }) == nil else { throw Sealed() }
        let index = try await propose(.records, try sealed(payload), stampMillis)
        // Proposed just before a seal but ordered after it: committed, yet never readable. Route it again.
        if let seal = sealedAt.withLock({ $0 }), index > seal { throw Sealed() }
        return index
    }

    /// `payload` as it is stored: sealed under the stream's current data key when its records are encrypted at
    /// rest (the leader seals before it proposes, so no follower, segment or snapshot holds the plaintext), else
    /// the same bytes, uncopied.
    func sealed(_ payload: [UInt8]) throws -> [UInt8] {
        guard let current = try recordKey() else { return payload }
        do {
            return try RecordBatch.seal(payload, key: current.1, version: current.0, streamID: streamID)
        } catch {
            throw KinesisError.internalFailure("a malformed record batch could not be sealed")
        }
    }

    /// Whether a reshard sealed the shard or is sealing it: no record may be proposed.
    var isClosedToWrites: Bool { sealing.withLock { $0 } || sealedAt.withLock { $0 } != nil }

    /// Where a `seal` closed the shard, if one did.
    var sealIndex: LogIndex? { sealedAt.withLock { $0 } }

    /// Appends the `seal` entry that ends this shard's records and returns its committed index.
    func appendSeal(stampMillis: Int64) async throws -> LogIndex {
        if let index = sealedAt.withLock({ $0 }) { return index }
        sealing.withLock { $0 = true }
        defer { sealing.withLock { $0 = false } }
        let index = try await propose(.seal, [], stampMillis)
        sealedAt.withLock { $0 = $0 ?? index }
        return sealedAt.withLock { $0 } ?? index
    }

    /// Marks the shard sealed at `index` (from the catalog) or reopens it (nil) when a reshard failed to
    /// commit: a seal entry the catalog never adopted is inert.
    func setSealed(at index: LogIndex?) {
        sealedAt.withLock { $0 = index }
        sealUnconfirmed.withLock { $0 = false }
    }

    /// Reopens a shard whose log held a seal the catalog did not show at open, once a catalog known to be
    /// current still shows it open: the reshard that sealed it never committed. (A catalog that closes it
    /// settles it through `setSealed`.) No-op for any other replica.
    func reopenUnconfirmedSeal() {
        guard sealUnconfirmed.withLock({ $0 }) else { return }
        setSealed(at: nil)
        logger.info("reopened: the seal in the log belongs to a reshard that never committed")
    }

    /// Whether the shard waits for a current catalog to say whether the seal in its log holds.
    var hasUnconfirmedSeal: Bool { sealUnconfirmed.withLock { $0 } }

    /// Retention: appends a `trim` entry and, once it is applied, moves the log start to `index`, deleting
    /// whole segments below it. Replicas never trim by their own clock (ARCHITECTURE.md, retention rule).
    func trim(before index: LogIndex, stampMillis: Int64) async throws {
        var payload: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) {
            payload.append(UInt8(truncatingIfNeeded: index.rawValue >> UInt64(shift)))
        }
        _ = try await propose(.trim, payload, stampMillis)
        try await driver.compact(before: index, state: producerSnapshot())
    }

    /// Where a retention trim may cut: the first index of the first segment that still holds a record
    /// younger than `horizonMillis`. Whole segments go; the active one never does.
    func retentionCut(horizonMillis: Int64) -> LogIndex? {
        let segments = log.segments()
        var cut: LogIndex?
        for (position, segment) in segments.enumerated().dropLast() {
            guard segment.maxTimestamp < horizonMillis else { break }
            cut = segments[position + 1].firstIndex
        }
        guard let cut, cut > log.firstIndex, cut <= committedIndex else { return nil }
        return cut
    }

    static func trimIndex(_ payload: [UInt8]) -> LogIndex? {
        guard payload.count == 8 else { return nil }
        return LogIndex(payload.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }

    func sequenceNumber(index: LogIndex, slot: UInt16, stampMillis: Int64) -> SequenceNumber {
        SequenceNumber(entry: index, slot: slot, stampMillis: stampMillis, epoch: epoch, shardIndex: shard.index)
    }

    func propose(
        _ kind: EntryKind,
        _ payload: [UInt8],
        _ stampMillis: Int64,
        inTerm term: Term? = nil
    ) async throws -> LogIndex {
        do {
            return try await driver.propose(kind: kind, payload: payload, timestampMillis: stampMillis, inTerm: term)
        } catch let error as RaftGroupDriver.ProposalError {
            if let redirect = Redirect(error) { throw redirect }
            // Every outcome but success is a failure the client may retry; an indeterminate one may have been
            // written, which Kinesis clients already allow for (at-least-once).
            throw KinesisError.internalFailure("The shard could not commit the write (\(error)); retry.")
        }
    }
}

/// Lets the apply closure reach the replica that owns the driver it was given to.
private final class ReplicaBox: Sendable {
    private let stored = Mutex<ShardReplica?>(nil)
    var replica: ShardReplica? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
