import Logging
import RillModel
import RillRaft
import RillReplication
import RillStorage

extension Simulation {
    /// One running incarnation of a node's group: the real `RaftGroupDriver` over the real
    /// `SegmentedLogStorage` and `RaftStateLog`, on the node's simulated disk, with simulated flush rounds.
    /// A crash ends the incarnation; a restart opens a new one from what the disk kept, through the real
    /// recovery code.
    struct Replica {
        static let group = RaftGroupID.shard(streamID: "simulation", shard: ShardID(index: 0))
        static let dataDirectory = "/node"
        static let stateLogPath = "/node/raftstate.log"
        static let logDirectory = "/node/log"
        private static let logger = Logger(label: "rill.simulation", factory: { _ in SwiftLogNoOpLogHandler() })

        let driver: RaftGroupDriver
        let rounds: FlushRounds
        let incarnation: Int
        /// What recovery found on the disk at this start.
        let recovery: RecoveryReport

        /// Opens the node's disk and starts a driver on it.
        ///
        /// - Parameter abstain: the node lost its disk before (or recovery finds damage now): it must not vote
        ///   until it caught up, as `ShardReplica` decides from the recovery report and its marker file.
        static func start(
            slot: Int,
            disk: FileSystem,
            configuration: Raft.Configuration,
            abstain: Bool,
            settings: Settings,
            ledger: Ledger,
            executor: Executor,
            clock: ManualClock
        ) throws(CheckFailure) -> Replica {
            let stateLog: RaftStateLog
            let storage: SegmentedLogStorage
            do {
                // The data directory, as `rill node` makes it at start.
                try disk.makeDirectories(dataDirectory)
                stateLog = try RaftStateLog.open(path: stateLogPath, fileSystem: disk)
                storage = try RaftGroupDriver.openStorage(
                    group: group,
                    directory: logDirectory,
                    stateLog: stateLog,
                    options: SegmentedLog.Options(segmentBytes: settings.segmentBytes, indexIntervalBytes: 256),
                    fileSystem: disk
                )
            } catch {
                throw CheckFailure("recovery", "node \(slot + 1) cannot open its disk: \(error)")
            }
            let recovery = storage.log.recovery
            var damaged = false
            if case .damaged = recovery { damaged = true }
            ledger.incarnations[slot] += 1
            let incarnation = ledger.incarnations[slot]
            let rounds = FlushRounds()
            let probe = ReadyProbe(
                taken: { ready, node in ledger.taken(ready, node, slot: slot, incarnation: incarnation) },
                written: { ready, node in ledger.written(ready, node, slot: slot, incarnation: incarnation) }
            )
            // Followers rest only on a leader gossip sees alive; without the world's gossip, never.
            let restChecks = settings.restChecks
            let isAlive: @Sendable (NodeID) -> Bool = { id in restChecks && ledger.sees(slot, alive: id) }
            let driver = RaftGroupDriver(
                group: group,
                id: NodeID(UInt64(slot + 1)),
                configuration: configuration,
                storage: storage,
                stateLog: stateLog,
                flusher: rounds,
                options: settings.options,
                tickInterval: nil,
                seed: ledger.random.next(),
                abstain: abstain || damaged,
                isAlive: isAlive,
                taskExecutor: executor,
                clock: clock,
                nudgesWhileResting: !settings.restChecks,
                probe: probe,
                logger: logger,
                send: { messages in ledger.send(messages, from: slot, incarnation: incarnation) },
                apply: { entries in ledger.applied(entries, on: slot, incarnation: incarnation) }
            )
            ledger.reportedCommit[slot] = stateLog.states[group]?.commit ?? .zero
            executor.run { await driver.start() }
            return Replica(driver: driver, rounds: rounds, incarnation: incarnation, recovery: recovery)
        }

        /// The process dies: what the disk did not sync is lost, the flush round in progress never completes,
        /// and nothing the old driver still does reaches the world. Its tasks are then stopped, which only
        /// fails what it was waiting for (its disk handles are dead, so it writes nothing more).
        func crash(disk: FileSystem, ledger: Ledger, executor: Executor) {
            ledger.incarnations[slotIndex] += 1
            disk.crash(random: &ledger.random)
            rounds.fail()
            let driver = driver
            executor.run { await driver.stop() }
        }

        private var slotIndex: Int { Int(driver.id.rawValue) - 1 }

        /// Status of the running driver.
        func status(executor: Executor) -> RaftGroupDriver.Status {
            let driver = driver
            return executor.run { await driver.status }
        }
    }
}
