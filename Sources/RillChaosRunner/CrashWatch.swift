import RillChaos

/// Notices node processes that exit without the nemesis asking, records each as a `crash` fault, and
/// restarts the node so the run goes on. A crash is a bug whatever the verdict says; the run reports it.
struct CrashWatch: Sendable {
    let cluster: LocalCluster
    let admin: AdminClient
    let recorder: Recorder
    let console: Console
    let logDirectory: String

    struct Report: Sendable {
        /// One line per crash: node, exit status, when.
        var crashes: [String] = []
        /// Set if a crashed node could not be restarted.
        var harnessError: ChaosError?
    }

    func run(stop: StopFlag) async -> Report {
        var report = Report()
        while !stop.isSet, !Task.isCancelled {
            for exit in await cluster.reapUnexpectedExits() {
                let line =
                    "\(exit.node.name) exited on its own (\(exit.status)) at \(Seconds(milliseconds: recorder.now)); "
                    + "see \(logDirectory)/\(exit.node.name).log"
                console.line("CRASH: " + line)
                report.crashes.append(line)
                recorder.fault(.crash, .start, target: exit.node.name, detail: exit.status)
                do {
                    try await cluster.start(exit.node.id - 1)
                } catch {
                    report.harnessError = error
                    return report
                }
                let ready = await admin.waitReady([exit.node.api], within: .seconds(30))
                recorder.fault(
                    .crash,
                    .end,
                    target: exit.node.name,
                    detail: ready ? "restarted" : "restarted, not ready after 30 s"
                )
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return report
    }
}
