import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The chaos run's own cluster: N `rill node` processes, each with a data dir and log under `OUT/nodes`,
/// which the nemesis kills, pauses, wipes and restarts. They listen on loopback, or each in its own network
/// namespace (`--netns`, see `NetworkNamespaces`) when `placement` says so.
///
/// The actor is the only owner of the processes. Every state change happens here, and `kill` returns only
/// once the process is reaped, so a restart never races the old process for its ports.
///
/// Each member is a slot (0-based index). The `replace` nemesis puts a new node, with a new id, ports and
/// data dir, into a slot; the workload and the checks always see the slots' current nodes.
actor LocalCluster: ChaosCluster {
    /// What a member's process is doing, as far as the harness made it.
    enum State: Sendable, Equatable {
        case running(pid_t)
        case paused(pid_t)
        case down
    }

    /// A node process that ended without the harness asking.
    struct UnexpectedExit: Sendable {
        var node: NodeProcess
        var status: String
    }

    /// The node in each slot. Behind a lock rather than the actor so that `members` can be read without
    /// awaiting, as the `ChaosCluster` protocol asks.
    private let slots: Mutex<[NodeProcess]>
    private let directory: URL
    private let placement: Placement
    private let binary: String
    private let extraArguments: [String]
    private var states: [State]
    private var starts: [Int]
    /// The id the next replacement node gets: ids are never reused (Rill refuses a removed id).
    private var nextID: Int
    /// Removed nodes still running until their replicas have moved away (`retire` stops them).
    private var retiring: [pid_t] = []

    /// The node in each slot now.
    nonisolated var nodes: [NodeProcess] { slots.withLock { $0 } }

    /// Where node `index` (0-based) listens and what it runs under.
    struct Placement: Sendable {
        var host: @Sendable (Int) -> String = { _ in "127.0.0.1" }
        var launcher: @Sendable (Int) -> [String] = { _ in [] }
    }

    init(
        directory: URL,
        binary: String,
        count: Int,
        extraArguments: [String],
        placement: Placement = Placement()
    )
        throws(ChaosError)
    {
        let zones = ["az-a", "az-b", "az-c"]
        var nodes: [NodeProcess] = []
        for index in 0..<count {
            nodes.append(
                try Self.makeNode(
                    id: index + 1,
                    zone: zones[index % zones.count],
                    slot: index,
                    directory: directory,
                    placement: placement
                )
            )
        }
        self.slots = Mutex(nodes)
        self.directory = directory
        self.placement = placement
        self.nextID = count + 1
        self.binary = binary
        self.extraArguments = extraArguments
        self.states = Array(repeating: .down, count: count)
        self.starts = Array(repeating: 0, count: count)
    }

    /// A node for `slot` with fresh ports and an empty data dir named for its id.
    private static func makeNode(
        id: Int,
        zone: String,
        slot: Int,
        directory: URL,
        placement: Placement
    ) throws(ChaosError) -> NodeProcess {
        let ports = try FreePorts.take(2)
        let node = NodeProcess(
            id: id,
            zone: zone,
            host: placement.host(slot),
            apiPort: ports[0],
            peerPort: ports[1],
            dataDirectory: directory.appendingPathComponent("node-\(id)"),
            logFile: directory.appendingPathComponent("node-\(id).log"),
            launcher: placement.launcher(slot)
        )
        do {
            try FileManager.default.createDirectory(at: node.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw .harness("cannot create \(node.dataDirectory.path): \(error)")
        }
        return node
    }

    func state(of index: Int) -> State { states[index] }

    nonisolated var members: [Member] { nodes.map { Member(id: $0.id, api: $0.api) } }

    /// API addresses of the nodes a client can expect an answer from: running and not paused.
    func reachable() -> [APIAddress] {
        nodes.indices.compactMap { index in
            if case .running = states[index] { return nodes[index].api }
            return nil
        }
    }

    /// Indices of members that are running and not paused.
    func runningIndices() -> [Int] {
        nodes.indices.filter { if case .running = states[$0] { true } else { false } }
    }

    // MARK: - Starting and stopping

    func start(_ index: Int) throws(ChaosError) {
        guard states[index] == .down else { return }
        let nodes = self.nodes
        let join = nodes.map(\.peer)
        let node = nodes[index]
        starts[index] += 1
        let arguments = node.arguments(join: join, expect: nodes.count, extra: extraArguments)
        states[index] = .running(try node.spawn(binary: binary, arguments: arguments, start: starts[index]))
    }

    /// kill -9; returns once the process is gone. A paused process dies too: SIGKILL needs no SIGCONT.
    func kill(_ index: Int) async {
        guard let pid = pid(of: index) else { return }
        states[index] = .down
        signalProcess(pid, SIGKILL)
        await reap(pid, within: .seconds(10))
    }

    /// kill -9 of every node at once (all signals go out before any reaping): a power loss.
    func killAll() async {
        let pids = nodes.indices.compactMap { pid(of: $0) }
        for index in nodes.indices { states[index] = .down }
        for pid in pids { signalProcess(pid, SIGKILL) }
        for pid in pids { await reap(pid, within: .seconds(10)) }
    }

    /// Ends every fault the harness caused: resumes paused nodes and starts stopped ones.
    func healAll() throws(ChaosError) {
        for index in nodes.indices {
            resume(index)
            try start(index)
        }
    }

    /// `healAll`, with its error as a value.
    func healAllReportingError() -> ChaosError? {
        do {
            try healAll()
            return nil
        } catch {
            return error
        }
    }

    /// SIGSTOP: the process keeps its sockets, but answers nothing until `resume`.
    func pause(_ index: Int) {
        guard case .running(let pid) = states[index] else { return }
        signalProcess(pid, SIGSTOP)
        states[index] = .paused(pid)
    }

    func resume(_ index: Int) {
        guard case .paused(let pid) = states[index] else { return }
        signalProcess(pid, SIGCONT)
        states[index] = .running(pid)
    }

    /// Puts a new node, with the next id, in slot `index`, in the zone of the node there, down until `start`.
    /// The old node leaves the slot: if it still runs, it keeps running, unwatched, until `retire`.
    /// Returns the old node, the new one and the old one's pid if it runs.
    func replace(_ index: Int) throws(ChaosError) -> (old: NodeProcess, new: NodeProcess, running: pid_t?) {
        let old = nodes[index]
        let new = try Self.makeNode(
            id: nextID,
            zone: old.zone,
            slot: index,
            directory: directory,
            placement: placement
        )
        nextID += 1
        let running = pid(of: index)
        if let running {
            resumeIfPaused(index)
            retiring.append(running)
        }
        slots.withLock { $0[index] = new }
        states[index] = .down
        starts[index] = 0
        return (old, new, running)
    }

    /// Stops a removed node that `replace` left running: SIGTERM, and SIGKILL if it is still there after
    /// `grace`. Returns how it ended.
    @discardableResult
    func retire(_ pid: pid_t, grace: Duration = .seconds(10)) async -> String {
        guard let position = retiring.firstIndex(of: pid) else { return "not running" }
        retiring.remove(at: position)
        signalProcess(pid, SIGTERM)
        if let status = await reapStatus(pid, within: grace) { return ExitStatus.describe(status) }
        signalProcess(pid, SIGKILL)
        await reap(pid, within: .seconds(5))
        return "killed after \(grace) without exiting on SIGTERM"
    }

    private func resumeIfPaused(_ index: Int) {
        if case .paused(let pid) = states[index] { signalProcess(pid, SIGCONT) }
    }

    /// Deletes a stopped node's data dir and leaves an empty one: the node lost its disk.
    func wipe(_ index: Int) throws(ChaosError) {
        precondition(states[index] == .down, "wipe of node-\(index + 1) while its process runs")
        let directory = nodes[index].dataDirectory
        do {
            try FileManager.default.removeItem(at: directory)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .harness("cannot wipe \(directory.path): \(error)")
        }
    }

    /// Members whose process ended on its own since the last call; they are marked down.
    func reapUnexpectedExits() -> [UnexpectedExit] {
        var exits: [UnexpectedExit] = []
        for index in nodes.indices {
            guard let pid = pid(of: index) else { continue }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                states[index] = .down
                exits.append(UnexpectedExit(node: nodes[index], status: ExitStatus.describe(status)))
            }
        }
        return exits
    }

    /// Resumes paused nodes, asks every node to stop with SIGTERM, and kills what is left after `grace`.
    func stopAll(grace: Duration = .seconds(10)) async {
        for index in nodes.indices { resume(index) }
        let pids = nodes.indices.compactMap { pid(of: $0) } + retiring
        retiring = []
        for index in nodes.indices { states[index] = .down }
        for pid in pids { signalProcess(pid, SIGTERM) }
        let deadline = ContinuousClock.now + grace
        for pid in pids {
            if !(await reap(pid, within: deadline - .now)) {
                signalProcess(pid, SIGKILL)
                await reap(pid, within: .seconds(5))
            }
        }
    }

    private func pid(of index: Int) -> pid_t? {
        switch states[index] {
        case .running(let pid), .paused(let pid): pid
        case .down: nil
        }
    }

    /// Polls `waitpid` (a blocking wait would hold a cooperative thread); true once the process is reaped.
    @discardableResult
    private func reap(_ pid: pid_t, within timeout: Duration) async -> Bool {
        await reapStatus(pid, within: timeout) != nil
    }

    /// `reap`, with the `waitpid` status (0 if someone else reaped it); nil if `timeout` passed first.
    private func reapStatus(_ pid: pid_t, within timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return status }
            if result < 0 && errno == ECHILD { return 0 }
            if ContinuousClock.now >= deadline { return nil }
            // Sleeping through cancellation is fine here: the loop is bounded by the deadline.
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
