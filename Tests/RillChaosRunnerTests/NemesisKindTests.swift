import Testing

@testable import RillChaosRunner

@Suite struct NemesisKindTests {
    @Test func parsesACommaSeparatedListOnceEach() throws {
        let kinds = try NemesisKind.parseList("kill, pause,kill,WIPE,allkill").get()
        #expect(kinds == [.kill, .pause, .wipe, .allkill])
    }

    @Test(arguments: ["", ",", "kill,bogus", "partition", "kill,partition"])
    func refusesWhatItCannotInject(text: String) {
        guard case .failure = NemesisKind.parseList(text) else {
            Issue.record("\"\(text)\" should be refused")
            return
        }
    }
}
