import Testing

@testable import RillChaosRunner

@Suite struct NemesisKindTests {
    @Test func parsesACommaSeparatedListOnceEach() throws {
        let kinds = try NemesisKind.parseList("kill, pause,kill,WIPE,allkill").get()
        #expect(kinds == [.kill, .pause, .wipe, .allkill])
    }

    @Test func parsesTheNemesesThatGoThroughFaultHooks() throws {
        let kinds = try NemesisKind.parseList("partition,clock,disk,powerloss,kill").get()
        #expect(kinds == [.partition, .clock, .disk, .powerloss, .kill])
        #expect(kinds.map(\.needsFaultInjection) == [true, true, false, true, false])
    }

    @Test(arguments: ["", ",", "kill,bogus", "partitions", "kill,clock,bitflip"])
    func refusesWhatItCannotInject(text: String) {
        guard case .failure = NemesisKind.parseList(text) else {
            Issue.record("\"\(text)\" should be refused")
            return
        }
    }

    @Test func againstARunningClusterOnlyKindsWithoutProcessesOrNamespacesApply() {
        let remote = NemesisKind.allCases.filter { !$0.needsProcesses && !$0.needsNamespaces }
        #expect(remote == [.partition, .clock, .delay, .reshard])
        // Resharding a stream someone else runs is opt-in.
        #expect(NemesisKind.defaults(remote: true) == [.partition, .clock, .delay])
        #expect(NemesisKind.defaults(remote: false).allSatisfy { $0.needsProcesses })
        #expect(NemesisKind.allCases.filter(\.needsNamespaces) == [.netpartition])
    }
}
