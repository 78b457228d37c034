import Foundation
import Logging
import NIOPosix
import RillModel
import RillNode
import RillRaft
import RillReplication
import RillStorage
import Synchronization
import Testing

/// One member's disk: its group log directory and its `raftstate` file, reopened on every restart.
struct MemberDisk {
    let id: NodeID
    let directory: String
    var logDirectory: String { directory + "/log" }
    var statePath: String { directory + "/raftstate.log" }
}

/// Committed entries a member applied, in order, for checks.
final class AppliedEntries: Sendable {
    private let entries = Mutex<[LogEntry]>([])
    func append(_ batch: [LogEntry]) { entries.withLock { $0 += batch } }
    var all: [LogEntry] { entries.withLock { $0 } }
}

/// Delivers messages between in-process drivers: one queue and one pump task per member, owned by the router
/// and cancelled by `shutdown`, so delivery never blocks the sending driver and never outlives the test.
final class MessageRouter: Sendable {
    private struct Member {
        let inbox: AsyncStream<[Raft.Message]>.Continuation
        let pump: Task<Void, Never>
    }
    /// The driver each member's messages go to; a reference so the pump tasks share it with the router.
    private final class Table: Sendable {
        let drivers = Mutex<[NodeID: RaftGroupDriver]>([:])
    }
    private let members = Mutex<[NodeID: Member]>([:])
    private let table = Table()
    /// Members that send but hear nothing (a one-way cut): messages to them are dropped.
    private let deaf = Mutex<Set<NodeID>>([])

    /// Adds a member whose messages go to whichever driver is attached (none while it is down).
    func add(_ id: NodeID) {
        let (stream, continuation) = AsyncStream.makeStream(of: [Raft.Message].self)
        let pump = Task { [table] in
            for await batch in stream {
                guard let driver = table.drivers.withLock({ $0[id] }) else { continue }
                await driver.step(batch)
            }
        }
        members.withLock { $0[id] = Member(inbox: continuation, pump: pump) }
    }

    /// Routes to `driver` from now on; nil takes the member down (its messages are dropped, as by a crash).
    func attach(_ id: NodeID, _ driver: RaftGroupDriver?) {
        table.drivers.withLock { $0[id] = driver }
    }

    /// Drops every message to `id` from now on (`true`), or delivers them again (`false`); its own still go out.
    func setDeaf(_ id: NodeID, _ isDeaf: Bool) {
        deaf.withLock { set in
            if isDeaf { set.insert(id) } else { set.remove(id) }
        }
    }

    func send(_ messages: [Raft.Message]) {
        let byTarget = Dictionary(grouping: messages, by: \.to)
        let deaf = deaf.withLock { $0 }
        members.withLock { members in
            for (target, batch) in byTarget where !deaf.contains(target) { members[target]?.inbox.yield(batch) }
        }
    }

    func shutdown() async {
        let all = members.withLock { $0.values.map { $0 } }
        for member in all {
            member.inbox.finish()
            member.pump.cancel()
        }
        for member in all { await member.pump.value }
    }
}

/// Awaits `condition` by polling until `timeout` passes; the poll interval only bounds latency, correctness
/// never depends on it. Returns whether it held.
func eventually(
    within timeout: Duration = .seconds(20),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return try await condition()
}

/// Every stored entry, as (index, term, kind, payload), for comparing logs across members and restarts.
func storedEntries(_ storage: SegmentedLogStorage) throws -> [LogEntry] {
    let log = storage.log
    guard log.firstIndex <= log.lastIndex else { return [] }
    var result: [LogEntry] = []
    var cursor = log.firstIndex
    while cursor <= log.lastIndex {
        let chunk = try log.entries(from: cursor, maxCount: 1024, maxBytes: 1 << 20)
        guard let last = chunk.last else { break }
        result += chunk
        cursor = last.index.next
    }
    return result
}

func temporaryDirectory() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("rill-driver-\(UUID().uuidString)").path
}

let testGroup = RaftGroupID.shard(streamID: "s", shard: ShardID(index: 0))

@Suite struct RaftGroupDriverTests {
    /// Opens a member from its disk, as a restarted process would (fresh `RaftStateLog`, fresh `SegmentedLog`).
    static func openDriver(
        _ disk: MemberDisk,
        voters: Set<NodeID>,
        flusher: Flusher,
        tickInterval: Duration?,
        applied: AppliedEntries,
        isAlive: @escaping @Sendable (NodeID) -> Bool = { _ in false },
        nudgesWhileResting: Bool = true,
        logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
        onSnapshotInstalled: @escaping @Sendable () -> Void = {},
        send: @escaping @Sendable ([Raft.Message]) -> Void
    ) throws -> RaftGroupDriver {
        try FileManager.default.createDirectory(atPath: disk.directory, withIntermediateDirectories: true)
        let stateLog = try RaftStateLog.open(path: disk.statePath)
        let storage = try RaftGroupDriver.openStorage(
            group: testGroup,
            directory: disk.logDirectory,
            stateLog: stateLog,
            options: SegmentedLog.Options(segmentBytes: 16 << 10)
        )
        return RaftGroupDriver(
            group: testGroup,
            id: disk.id,
            configuration: Raft.Configuration(voters: voters),
            storage: storage,
            stateLog: stateLog,
            flusher: flusher,
            tickInterval: tickInterval,
            seed: disk.id.rawValue,
            isAlive: isAlive,
            nudgesWhileResting: nudgesWhileResting,
            logger: logger,
            onSnapshotInstalled: onSnapshotInstalled,
            send: send,
            apply: { applied.append($0) }
        )
    }

    /// Opens member `id` of a group of `ids` on its disk under `root`, ticking every 10 ms, with `isAlive` as
    /// its gossip (by default every node alive, so idle members rest).
    static func openMember(
        _ id: NodeID,
        of ids: [NodeID],
        root: String,
        flusher: Flusher,
        isAlive: @escaping @Sendable (NodeID) -> Bool = { _ in true },
        nudgesWhileResting: Bool = true,
        send: @escaping @Sendable ([Raft.Message]) -> Void
    ) throws -> RaftGroupDriver {
        try openDriver(
            MemberDisk(id: id, directory: "\(root)/\(id)"),
            voters: Set(ids),
            flusher: flusher,
            tickInterval: .milliseconds(10),
            applied: AppliedEntries(),
            isAlive: isAlive,
            nudgesWhileResting: nudgesWhileResting,
            send: send
        )
    }

    /// Opens and starts a group of `ids` on disks under `root`, ticking every 10 ms, each member routed by
    /// `router`, with `isAlive` as their gossip.
    static func startGroup(
        _ ids: [NodeID],
        root: String,
        flusher: Flusher,
        router: MessageRouter,
        isAlive: @escaping @Sendable (NodeID) -> Bool
    ) async throws -> [NodeID: RaftGroupDriver] {
        try await start(ids, router: router) { id in
            try openMember(id, of: ids, root: root, flusher: flusher, isAlive: isAlive) { router.send($0) }
        }
    }

    /// Opens a driver per member with `open`, routes each member's messages to it through `router`, and starts
    /// them all.
    static func start(
        _ ids: [NodeID],
        router: MessageRouter,
        open: (NodeID) throws -> RaftGroupDriver
    ) async throws -> [NodeID: RaftGroupDriver] {
        var drivers: [NodeID: RaftGroupDriver] = [:]
        for id in ids {
            router.add(id)
            let driver = try open(id)
            drivers[id] = driver
            router.attach(id, driver)
        }
        for driver in drivers.values { await driver.start() }
        return drivers
    }

    static func withFlusher(_ body: (Flusher) async throws -> Void) async throws {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        let flusher = Flusher(threadPool: pool) { error in fatalError("unexpected sync failure \(error)") }
        do {
            try await body(flusher)
        } catch {
            try await pool.shutdownGracefully()
            throw error
        }
        try await pool.shutdownGracefully()
    }

    @Test func segmentedLogStorageFollowsTheLogStorageContract() throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let configuration = Raft.Configuration(voters: [NodeID(1), NodeID(2)])
        func entry(_ index: UInt64, term: UInt64, kind: EntryKind = .records, bytes: Int = 10) -> LogEntry {
            let payload =
                kind == .config
                ? configuration.encoded : [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: bytes)
            return LogEntry(term: Term(term), index: LogIndex(index), kind: kind, payload: payload)
        }
        let log = try SegmentedLog.open(directory: root + "/log", options: SegmentedLog.Options(segmentBytes: 512))
        let storage = try SegmentedLogStorage(log: log)
        #expect(storage.firstIndex == LogIndex(1) && storage.lastIndex == .zero && storage.term(at: .zero) == .zero)
        try storage.append((1...10).map { entry($0, term: 1, kind: $0 == 3 || $0 == 8 ? .config : .records) })
        #expect(
            storage.configurationEntries(from: LogIndex(1), through: LogIndex(10)).map(\.index) == [
                LogIndex(3), LogIndex(8),
            ]
        )
        #expect(
            storage.entries(from: LogIndex(2), through: LogIndex(9), maxBytes: 1 << 20)?.map(\.index.rawValue)
                == Array(2...9)
        )
        // Byte limits count `Raft.entrySize` and never return an empty answer for a non-empty range.
        #expect(storage.entries(from: LogIndex(4), through: LogIndex(9), maxBytes: 2 * (10 + 32))?.count == 2)
        #expect(storage.entries(from: LogIndex(4), through: LogIndex(9), maxBytes: 1)?.count == 1)
        #expect(storage.entries(from: LogIndex(4), through: LogIndex(11), maxBytes: 1 << 20) == nil)

        // A new leader's entries replace the conflicting suffix, config index included.
        try storage.append([entry(7, term: 2), entry(8, term: 2)])
        #expect(storage.lastIndex == LogIndex(8) && storage.term(at: LogIndex(7)) == Term(2))
        #expect(storage.configurationEntries(from: LogIndex(1), through: LogIndex(8)).map(\.index) == [LogIndex(3)])

        // Reopening rebuilds the config index by one scan.
        let reopened = try SegmentedLogStorage(
            log: try SegmentedLog.open(directory: root + "/log", options: log.options)
        )
        #expect(reopened.configurationEntries(from: LogIndex(1), through: LogIndex(8)).map(\.index) == [LogIndex(3)])

        // Compaction keeps the core's snapshot and answers the boundary term.
        let compacted = Raft.Snapshot(index: LogIndex(5), term: Term(1), configuration: configuration, state: [])
        try storage.compact(to: compacted)
        #expect(storage.firstIndex == LogIndex(6) && storage.snapshot == compacted)
        #expect(
            storage.term(at: LogIndex(5)) == Term(1)
                && storage.entries(from: LogIndex(5), through: LogIndex(6), maxBytes: 100) == nil
        )
        #expect(storage.configurationEntries(from: LogIndex(1), through: LogIndex(8)).isEmpty)

        // A snapshot from a leader discards every stored entry, even those after it.
        let installed = Raft.Snapshot(index: LogIndex(7), term: Term(3), configuration: configuration, state: [1])
        try storage.applySnapshot(installed)
        #expect(storage.firstIndex == LogIndex(8) && storage.lastIndex == LogIndex(7))
        #expect(storage.term(at: LogIndex(7)) == Term(3) && storage.snapshot == installed)
        try storage.append([entry(8, term: 3, kind: .config)])
        #expect(storage.configurationEntries(from: LogIndex(8), through: LogIndex(8)).map(\.term) == [Term(3)])
        #expect(storage.readError == nil)
    }

    /// With state: a shard's producer window, kept in `logstart` beside the configuration (past the 64 KiB a
    /// context was once limited to).
    @Test(
        "a member restarted after its config entries were trimmed still knows the voters, and can send the snapshot",
        arguments: [false, true]
    )
    func compactedConfigurationSurvivesRestart(withState: Bool) throws {
        let state = withState ? Array(repeating: UInt8(7), count: 100_000) : []
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let moved = Raft.Configuration(voters: [NodeID(1), NodeID(2), NodeID(4)])
        do {
            let storage = try SegmentedLogStorage(
                log: try SegmentedLog.open(directory: root + "/log", options: SegmentedLog.Options(segmentBytes: 512))
            )
            try storage.append(
                (1...10).map {
                    LogEntry(
                        term: Term(2),
                        index: LogIndex($0),
                        kind: $0 == 4 ? .config : .records,
                        payload: $0 == 4 ? moved.encoded : [1]
                    )
                }
            )
            try storage.compact(
                to: Raft.Snapshot(index: LogIndex(6), term: Term(2), configuration: moved, state: state)
            )
            try storage.log.sync()
        }
        let reopened = try SegmentedLogStorage(
            log: try SegmentedLog.open(
                directory: root + "/log",
                options: SegmentedLog.Options(segmentBytes: 512),
                durableIndex: LogIndex(10)
            )
        )
        #expect(
            reopened.snapshot == Raft.Snapshot(index: LogIndex(6), term: Term(2), configuration: moved, state: state)
        )
        // The bootstrap membership (the shard's replicas at creation) no longer decides.
        var random = SplitMix64(seed: 1)
        let node = Raft.Core(
            id: NodeID(1),
            configuration: Raft.Configuration(voters: [NodeID(1), NodeID(2), NodeID(3)]),
            hardState: Raft.HardState(),
            storage: reopened,
            options: Raft.Options(),
            random: &random
        )
        #expect(node.configuration == moved)
        #expect(node.snapshot?.index == LogIndex(6))
    }

    @Test func singleVoterElectsItselfCommitsAndRecoversLogAndTerm() async throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let disk = MemberDisk(id: NodeID(1), directory: root)
        try await Self.withFlusher { flusher in
            let applied = AppliedEntries()
            let driver = try Self.openDriver(
                disk,
                voters: [disk.id],
                flusher: flusher,
                tickInterval: .milliseconds(10),
                applied: applied,
                send: { _ in }
            )
            await driver.start()
            #expect(await eventually { await driver.status.role == .leader })
            var indexes: [LogIndex] = []
            for i in 0..<30 {
                indexes.append(
                    try await driver.propose(kind: .records, payload: Array("r\(i)".utf8), timestampMillis: Int64(i))
                )
            }
            #expect(indexes == indexes.sorted() && Set(indexes).count == 30)
            let before = await driver.status
            #expect(before.commit == indexes.last && before.applied == indexes.last)
            // Proposals resolve only after apply: every one of them is already in the applied list.
            #expect(Set(applied.all.map(\.index)).isSuperset(of: indexes))
            await driver.stop()
            await #expect(throws: RaftGroupDriver.ProposalError.notRunning) {
                try await driver.propose(kind: .records, payload: [1], timestampMillis: 0)
            }
            let logBefore = try storedEntries(driver.storage)
            #expect(logBefore.count == Int(before.lastIndex.rawValue))

            // Restart on the same directory and raftstate, without a timer so nothing changes the term.
            let reapplied = AppliedEntries()
            let restarted = try Self.openDriver(
                disk,
                voters: [disk.id],
                flusher: flusher,
                tickInterval: nil,
                applied: reapplied,
                send: { _ in }
            )
            let logAfter = try storedEntries(restarted.storage)
            #expect(logAfter == logBefore)
            let recovered = await restarted.status
            #expect(recovered.term == before.term && recovered.commit == before.commit)
            await restarted.start()
            // Committed entries after the (absent) snapshot are handed to the state machine again.
            #expect(await eventually { reapplied.all.count == Int(before.commit.rawValue) })
            #expect(reapplied.all == applied.all)
            await restarted.campaign()
            #expect(await eventually { await restarted.status.role == .leader })
            let next = try await restarted.propose(kind: .records, payload: [7], timestampMillis: 99)
            #expect(next > before.lastIndex)
            #expect(await restarted.status.term > before.term)
            await restarted.stop()
        }
    }

    @Test func threeDriversReplicateFailOverAndCatchUp() async throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let ids = [NodeID(1), NodeID(2), NodeID(3)]
        let voters = Set(ids)
        let disks = Dictionary(uniqueKeysWithValues: ids.map { ($0, MemberDisk(id: $0, directory: "\(root)/\($0)")) })
        let router = MessageRouter()
        try await Self.withFlusher { flusher in
            var drivers: [NodeID: RaftGroupDriver] = [:]
            var applied: [NodeID: AppliedEntries] = [:]
            for id in ids {
                router.add(id)
                let entries = AppliedEntries()
                let driver = try Self.openDriver(
                    disks[id]!,
                    voters: voters,
                    flusher: flusher,
                    tickInterval: .milliseconds(10),
                    applied: entries,
                    send: { router.send($0) }
                )
                drivers[id] = driver
                applied[id] = entries
                router.attach(id, driver)
            }
            for driver in drivers.values { await driver.start() }

            func leader(among members: [NodeID], above term: Term = .zero) async -> NodeID? {
                for id in members {
                    guard let driver = drivers[id] else { continue }
                    let status = await driver.status
                    if status.role == .leader && status.term > term { return id }
                }
                return nil
            }
            func proposeAll(_ range: Range<Int>, to driver: RaftGroupDriver) async throws -> [LogIndex] {
                try await withThrowingTaskGroup(of: LogIndex.self) { tasks in
                    for i in range {
                        tasks.addTask {
                            try await driver.propose(
                                kind: .records,
                                payload: Array("p\(i)".utf8),
                                timestampMillis: Int64(i)
                            )
                        }
                    }
                    var indexes: [LogIndex] = []
                    for try await index in tasks { indexes.append(index) }
                    return indexes
                }
            }
            /// Waits until `members` all applied through the same commit index and hold identical logs.
            func converged(_ members: [NodeID]) async throws -> Bool {
                try await eventually {
                    var statuses: [RaftGroupDriver.Status] = []
                    for id in members { statuses.append(await drivers[id]!.status) }
                    guard let first = statuses.first,
                        statuses.allSatisfy({
                            $0.applied == first.commit && $0.commit == first.commit && $0.lastIndex == first.lastIndex
                        })
                    else { return false }
                    let logs = try members.map { try storedEntries(drivers[$0]!.storage) }
                    return logs.allSatisfy { $0 == logs[0] }
                }
            }

            #expect(await eventually { await leader(among: ids) != nil })
            let firstLeader = try #require(await leader(among: ids))
            let firstTerm = await drivers[firstLeader]!.status.term
            let indexes = try await proposeAll(0..<200, to: drivers[firstLeader]!)
            #expect(Set(indexes).count == 200)
            #expect(try await converged(ids))
            let replicated = try storedEntries(drivers[firstLeader]!.storage)
            #expect(replicated.filter { $0.kind == .records }.count == 200)
            for id in ids { #expect(applied[id]!.all == replicated) }

            // Crash the leader: its messages stop, its driver stops; the other two elect a new leader.
            router.attach(firstLeader, nil)
            await drivers[firstLeader]!.stop()
            let survivors = ids.filter { $0 != firstLeader }
            #expect(await eventually { await leader(among: survivors, above: firstTerm) != nil })
            let secondLeader = try #require(await leader(among: survivors, above: firstTerm))
            // Reads wait until the new leader applied an entry of its own term (its noop): by then its applied
            // index covers all 200 acknowledged entries, even though followers learn commits lazily.
            #expect(await eventually { await drivers[secondLeader]!.status.appliedInTerm })
            let ready = await drivers[secondLeader]!.status
            #expect(ready.applied > indexes.max()!)
            for id in survivors where id != secondLeader { #expect(await !drivers[id]!.status.appliedInTerm) }
            let more = try await proposeAll(200..<250, to: drivers[secondLeader]!)
            #expect(more.allSatisfy { $0 > indexes.max()! })
            #expect(try await converged(survivors))

            // Restart the old leader from its disk: it catches up with the new leader's log.
            let rejoined = AppliedEntries()
            let restarted = try Self.openDriver(
                disks[firstLeader]!,
                voters: voters,
                flusher: flusher,
                tickInterval: .milliseconds(10),
                applied: rejoined,
                send: { router.send($0) }
            )
            drivers[firstLeader] = restarted
            router.attach(firstLeader, restarted)
            await restarted.start()
            #expect(try await converged(ids))
            let final = try storedEntries(drivers[secondLeader]!.storage)
            #expect(final.filter { $0.kind == .records }.count == 250)
            #expect(rejoined.all == final)
            // Same entry at each index on every member: per-index term and payload.
            for id in ids {
                let log = try storedEntries(drivers[id]!.storage)
                #expect(log.map(\.term) == final.map(\.term) && log.map(\.payload) == final.map(\.payload))
            }

            for driver in drivers.values { await driver.stop() }
            await router.shutdown()
        }
    }

    /// Idle groups stop ticking (ARCHITECTURE "Data plane transport": idle groups rest): the leader once
    /// everyone holds the log and knows it committed, followers while gossip sees their leader alive. Any
    /// proposal wakes the group; when the leader's node dies, the registry wakes the survivors and they elect.
    @Test func idleGroupsRestThenWakeForWritesAndForALostLeader() async throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let ids = [NodeID(1), NodeID(2), NodeID(3)]
        let alive = Mutex(Set(ids))
        let router = MessageRouter()
        try await Self.withFlusher { flusher in
            var drivers = try await Self.startGroup(
                ids,
                root: root,
                flusher: flusher,
                router: router,
                isAlive: { node in alive.withLock { $0.contains(node) } }
            )
            func leader(among members: [NodeID]) async -> NodeID? {
                for id in members where await drivers[id]!.status.role == .leader { return id }
                return nil
            }
            func allResting(_ members: [NodeID]) async -> Bool {
                for id in members where await !drivers[id]!.status.resting { return false }
                return true
            }

            #expect(await eventually { await leader(among: ids) != nil })
            let first = try #require(await leader(among: ids))
            _ = try await drivers[first]!.propose(kind: .records, payload: [1], timestampMillis: 1)
            #expect(await eventually { await allResting(ids) }, "an idle group kept ticking")

            // A write wakes the resting leader, commits on a majority, and the group goes quiet again.
            let index = try await drivers[first]!.propose(kind: .records, payload: [2], timestampMillis: 2)
            #expect(await eventually { await allResting(ids) })
            for id in ids { #expect(await drivers[id]!.status.commit == index) }

            // The leader's node dies and gossip says so: the survivors wake, elect, and accept writes.
            router.attach(first, nil)
            await drivers[first]!.stop()
            alive.withLock { _ = $0.remove(first) }
            let survivors = ids.filter { $0 != first }
            for id in survivors { await drivers[id]!.wakeUp() }
            #expect(await eventually { await leader(among: survivors) != nil })
            let second = try #require(await leader(among: survivors))
            let after = try await drivers[second]!.propose(kind: .records, payload: [3], timestampMillis: 3)
            #expect(after > index)
            // The leader keeps ticking (a member is missing), its follower rests on it.
            let third = survivors.first { $0 != second }!
            #expect(await eventually { await drivers[third]!.status.resting })

            // The new leader restarts at once: gossip sees it alive again (a new incarnation), but its group no
            // longer leads. Woken, the other survivor must not rest on that leader: it hears nothing, and elects.
            router.attach(second, nil)
            await drivers[second]!.stop()
            let restarted = try Self.openDriver(
                MemberDisk(id: second, directory: "\(root)/\(second)"),
                voters: Set(ids),
                flusher: flusher,
                tickInterval: .milliseconds(10),
                applied: AppliedEntries(),
                isAlive: { node in alive.withLock { $0.contains(node) } },
                send: { router.send($0) }
            )
            drivers[second] = restarted
            router.attach(second, restarted)
            await restarted.start()
            await drivers[third]!.wakeUp()
            #expect(await eventually { await leader(among: survivors) != nil })

            for id in survivors { await drivers[id]!.stop() }
            await router.shutdown()
        }
    }

    /// A restarted node opens its replicas only once it has caught up with the catalog, often after its leaders'
    /// short waking round is over. Told that a member is back, a leader heartbeats until that member answers,
    /// instead of resting after a round whose heartbeats found no replica and leaving the member's replica without
    /// a leader until the next nudge (a client's first calls to a restarted node waited 1.1–1.5 s for it). The
    /// wait is bounded: a member that never answers lets the leader rest again.
    @Test func aLeaderToldAMemberIsBackHeartbeatsUntilItAnswers() async throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let ids = [NodeID(1), NodeID(2), NodeID(3)]
        let router = MessageRouter()
        let heartbeatsTo = Mutex<[NodeID: Int]>([:])
        let send: @Sendable ([Raft.Message]) -> Void = { messages in
            heartbeatsTo.withLock { counts in
                for message in messages {
                    if case .heartbeat = message.body { counts[message.to, default: 0] += 1 }
                }
            }
            router.send(messages)
        }
        func heartbeats(to id: NodeID) -> Int { heartbeatsTo.withLock { $0[id, default: 0] } }
        try await Self.withFlusher { flusher in
            func open(_ id: NodeID) throws -> RaftGroupDriver {
                try Self.openMember(id, of: ids, root: root, flusher: flusher, send: send)
            }
            var drivers = try await Self.start(ids, router: router, open: open)
            func leader() async -> NodeID? {
                for id in ids where await drivers[id]!.status.role == .leader { return id }
                return nil
            }
            func resting(_ members: [NodeID]) async -> Bool {
                for id in members where await !drivers[id]!.status.resting { return false }
                return true
            }
            #expect(await eventually { await leader() != nil })
            let first = try #require(await leader())
            _ = try await drivers[first]!.propose(kind: .records, payload: [1], timestampMillis: 1)
            #expect(await eventually { await resting(ids) })

            // A follower's node restarts; its replica is not open yet, so heartbeats to it go nowhere.
            let member = ids.first { $0 != first }!
            router.attach(member, nil)
            await drivers[member]!.stop()
            let before = heartbeats(to: member)
            await drivers[first]!.wakeUp(MemberNews(isBack: member))
            var restedMeanwhile = false
            #expect(
                await eventually {
                    if await drivers[first]!.status.resting { restedMeanwhile = true }
                    return heartbeats(to: member) - before >= 8
                }
            )
            #expect(!restedMeanwhile, "the leader rested before the member that is back answered")

            // The replica opens: the next heartbeat tells it who leads, its answer ends the wait, all rest again.
            drivers[member] = try open(member)
            router.attach(member, drivers[member])
            await drivers[member]!.start()
            #expect(await eventually { await drivers[member]!.status.leader == first })
            #expect(await eventually { await resting(ids) })

            // A member that never answers: the leader rests again once the wait runs out.
            router.attach(member, nil)
            await drivers[member]!.stop()
            await drivers[first]!.wakeUp(MemberNews(isBack: member))
            #expect(await !drivers[first]!.status.resting)
            #expect(await eventually { await drivers[first]!.status.resting })

            for id in ids where id != member { await drivers[id]!.stop() }
            await router.shutdown()
        }
    }

    /// A resting group whose leader stops hearing its followers while gossip still sees its node alive (a one-way
    /// cut of the Raft traffic), with nothing written: the leader's nudges tick it until check-quorum deposes it,
    /// and it campaigns. Its vote requests must wake the resting followers, which then time out and elect one of
    /// themselves. A build that let resting members sleep through any message that left them restful hung here
    /// (and in a chaos run's partition): the followers kept resting on a leader gossip saw alive, rejected its
    /// pre-votes, and the group never had a leader again.
    @Test func restingFollowersWakeToElectWhenTheirLeaderGoesDeaf() async throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let ids = [NodeID(1), NodeID(2), NodeID(3)]
        let router = MessageRouter()
        try await Self.withFlusher { flusher in
            let drivers = try await Self.startGroup(
                ids,
                root: root,
                flusher: flusher,
                router: router,
                isAlive: { _ in true }
            )
            func leader(among members: [NodeID], above term: Term = .zero) async -> NodeID? {
                for id in members {
                    let status = await drivers[id]!.status
                    if status.role == .leader && status.term > term { return id }
                }
                return nil
            }
            func allResting() async -> Bool {
                for id in ids where await !drivers[id]!.status.resting { return false }
                return true
            }

            #expect(await eventually { await leader(among: ids) != nil })
            let deafened = try #require(await leader(among: ids))
            let term = await drivers[deafened]!.status.term
            let first = try await drivers[deafened]!.propose(kind: .records, payload: [1], timestampMillis: 1)
            #expect(await eventually { await allResting() }, "an idle group kept ticking")

            router.setDeaf(deafened, true)
            let others = ids.filter { $0 != deafened }
            #expect(
                await eventually { await leader(among: others, above: term) != nil },
                "the followers of a leader that went deaf never elected"
            )
            let next = try #require(await leader(among: others, above: term))
            let after = try await drivers[next]!.propose(kind: .records, payload: [3], timestampMillis: 3)
            #expect(after > first)

            router.setDeaf(deafened, false)
            #expect(await eventually { await drivers[deafened]!.status.commit >= after })
            for driver in drivers.values { await driver.stop() }
            await router.shutdown()
        }
    }
}
