import RillModel
import RillTransport
import Testing

@testable import RillCluster

@Suite struct FaultCommandTests {
    static func parse(_ text: String) -> FaultCommand? {
        try? FaultCommand.parse(Array(text.utf8)).get()
    }

    @Test func keysCombineIntoOneCommand() {
        let command = Self.parse(
            #"{"heal":true,"isolate":[2,3],"drop":[{"peer":2,"probability":0.5}],"clock":{"jumpMillis":-1000,"rate":2},"loseUnsyncedWrites":true}"#
        )
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

@Suite struct FaultCommandDelayTests {
    @Test func aDelayNamesPeerFixedPartAndJitter() {
        let one = try? FaultCommand.parse(Array(#"{"delay":{"peer":2,"millis":100,"jitterMillis":50}}"#.utf8)).get()
        #expect(one?.delays == [FaultCommand.Delay(peer: NodeID(2), millis: 100, jitterMillis: 50)])
        let several = try? FaultCommand.parse(Array(#"{"delay":[{"peer":2,"millis":5},{"peer":3,"millis":0}]}"#.utf8))
            .get()
        #expect(several?.delays.map(\.jitterMillis) == [0, 0])
        #expect(several?.delays[1].linkDelay == nil)
        #expect(one?.delays[0].linkDelay == LinkDelay(fixed: .milliseconds(100), jitter: .milliseconds(50)))
    }

    @Test(arguments: [
        #"{"delay":{"peer":2}}"#, #"{"delay":{"peer":0,"millis":5}}"#, #"{"delay":{"peer":2,"millis":-1}}"#,
        #"{"delay":{"peer":2,"millis":60001}}"#, #"{"delay":{"peer":2,"millis":5,"jitter":3}}"#,
        #"{"delay":{"peer":2,"millis":5,"jitterMillis":1.5}}"#, #"{"delay":[{"peer":2,"millis":5},7]}"#,
    ])
    func refusesMalformedDelays(text: String) {
        #expect((try? FaultCommand.parse(Array(text.utf8)).get()) == nil)
    }
}
