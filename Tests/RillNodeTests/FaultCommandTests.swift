import RillModel
import Testing

@testable import RillNode

@Suite struct FaultCommandTests {
    static func parse(_ text: String) -> FaultCommand? {
        try? FaultCommand.parse(Array(text.utf8)).get()
    }

    @Test func keysCombineIntoOneCommand() {
        let command = Self.parse(
            #"{"heal":true,"isolate":[2,3],"drop":[{"peer":2,"probability":0.5}],"clock":{"jumpMillis":-1000,"rate":2},"loseUnsyncedWrites":true}"#)
        #expect(command?.heal == true)
        #expect(command?.isolate == [NodeID(2), NodeID(3)])
        #expect(command?.drops == [FaultCommand.Drop(peer: NodeID(2), probability: 0.5)])
        #expect(command?.clockJumpMillis == -1000 && command?.clockRate == 2)
        #expect(command?.loseUnsyncedWrites == true)
    }

    @Test func anEmptyObjectChangesNothing() {
        #expect(Self.parse("{}") == FaultCommand())
    }

    @Test(arguments: [
        "", "[]", "null", #"{"heal":1}"#, #"{"isolate":[0]}"#, #"{"isolate":["2"]}"#, #"{"drop":{"peer":2}}"#,
        #"{"drop":[{"peer":2,"probability":0.5},3]}"#, #"{"drop":{"peer":2,"probability":-0.1}}"#,
        #"{"clock":{"rate":0}}"#, #"{"clock":{"jumpMillis":1.5}}"#, #"{"clock":{"skew":1}}"#, #"{"heel":true}"#,
    ])
    func refusesWhatItCannotApply(text: String) {
        #expect(Self.parse(text) == nil)
    }
}
