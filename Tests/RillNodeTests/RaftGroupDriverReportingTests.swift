import Foundation
import Logging
import RillModel
import RillNode
import RillRaft
import RillReplication
import RillTestKit
import Synchronization
import Testing

/// How many times a callback ran, readable from the test.
private final class CallCount: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// What a group tells operators: role changes at info with node, zone, group and term (docs/operations.md,
/// "Logs"), and each snapshot it installs, counted for `rill_raft_snapshot_installs_total` and logged.
@Suite struct RaftGroupDriverReportingTests {
    @Test func roleChangesAreLoggedWithGroupAndTermAndASnapshotInstallIsCountedAndLogged() async throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let ids = [NodeID(1), NodeID(2), NodeID(3)]
        let disks = Dictionary(uniqueKeysWithValues: ids.map { ($0, MemberDisk(id: $0, directory: "\(root)/\($0)")) })
        let router = MessageRouter()
        let installs = CallCount()
        // Each member logs with its node's metadata, as `rill node` sets it once on its logger.
        let logs = Dictionary(
            uniqueKeysWithValues: ids.map { id in
                let metadata: Logger.Metadata = ["rill.node": "\(id)", "rill.az": "az-\(id)"]
                return (
                    id,
                    LogCapture(level: .info, metadata: metadata, metadataProvider: RequestLogContext.metadataProvider)
                )
            }
        )
        try await RaftGroupDriverTests.withFlusher { flusher in
            func open(_ id: NodeID) throws -> RaftGroupDriver {
                try RaftGroupDriverTests.openDriver(
                    disks[id]!,
                    voters: Set(ids),
                    flusher: flusher,
                    tickInterval: .milliseconds(10),
                    applied: AppliedEntries(),
                    logger: logs[id]!.logger,
                    onSnapshotInstalled: { installs.add() },
                    send: { router.send($0) }
                )
            }
            var drivers = try await RaftGroupDriverTests.start(ids, router: router, open: open)
            func leader() async -> NodeID? {
                for (id, driver) in drivers where await driver.status.role == .leader { return id }
                return nil
            }
            #expect(await eventually { await leader() != nil })
            let leaderID = try #require(await leader())
            let leaderDriver = try #require(drivers[leaderID])
            let term = await leaderDriver.status.term

            // The line is written when the driver handles the Ready carrying the change, a moment after the core's
            // role moved: wait for it rather than race it.
            #expect(
                await eventually {
                    logs[leaderID]!.lines("raft role changed").contains { $0.metadata["raft.role"] == "leader" }
                }
            )
            let elected = try #require(
                logs[leaderID]!.lines("raft role changed").last { $0.metadata["raft.role"] == "leader" }
            )
            #expect(elected.level == .info)
            #expect(elected.metadata["rill.node"] == "\(leaderID)" && elected.metadata["rill.az"] == "az-\(leaderID)")
            #expect(elected.metadata["rill.group"] == "\(testGroup)")
            #expect(elected.metadata["raft.term"] == "\(term)")
            // Followers say whom they follow once its first message reached them.
            let follower = try #require(ids.first { $0 != leaderID })
            #expect(
                await eventually {
                    logs[follower]!.lines("raft role changed").contains {
                        $0.metadata["raft.role"] == "follower" && $0.metadata["raft.leader"] == "\(leaderID)"
                            && $0.metadata["raft.term"] == "\(term)" && $0.level == .info
                    }
                }
            )

            // A follower down while the leader writes on and compacts past everything it has must take a snapshot.
            router.attach(follower, nil)
            await drivers[follower]!.stop()
            var last = LogIndex.zero
            for i in 0..<40 {
                last = try await leaderDriver.propose(
                    kind: .records,
                    payload: [UInt8](repeating: UInt8(i), count: 1024),
                    timestampMillis: Int64(i)
                )
            }
            try await leaderDriver.compact(before: last)
            #expect(installs.value == 0)
            #expect(logs[follower]!.lines("installed a snapshot from the leader").isEmpty)

            let restarted = try open(follower)
            drivers[follower] = restarted
            router.attach(follower, restarted)
            await restarted.start()
            #expect(await eventually { await restarted.status.applied >= last })
            let installed = logs[follower]!.lines("installed a snapshot from the leader")
            #expect(installs.value >= 1 && installed.count == installs.value)
            let line = try #require(installed.first)
            #expect(line.level == .info)
            #expect(line.metadata["rill.node"] == "\(follower)" && line.metadata["rill.group"] == "\(testGroup)")
            #expect(line.metadata["raft.term"] != nil && line.metadata["raft.snapshot.index"] != nil)

            for driver in drivers.values { await driver.stop() }
            await router.shutdown()
        }
    }
}
