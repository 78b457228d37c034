import RillModel
import RillRouting
import Testing

@Suite struct LeaderChoiceTests {
    let me = NodeID(9)

    @Test("a redirect's hint comes first, then the known leader, then the others in order, each once")
    func order() {
        let candidates = LeaderChoice.candidates(
            hint: NodeID(3),
            known: NodeID(2),
            others: [NodeID(1), NodeID(2), NodeID(3)],
            me: me,
            isDown: { _ in false }
        )
        #expect(candidates == [NodeID(3), NodeID(2), NodeID(1)])
    }

    @Test("this process is never a candidate")
    func neverMe() {
        let candidates = LeaderChoice.candidates(
            hint: me,
            known: me,
            others: [me, NodeID(1)],
            me: me,
            isDown: { _ in false }
        )
        #expect(candidates == [NodeID(1)])
    }

    @Test("nodes gossip declared down are skipped, unless nothing else is left")
    func downNodesLast() {
        let down: Set<NodeID> = [NodeID(1)]
        #expect(
            LeaderChoice.candidates(hint: nil, known: NodeID(1), others: [NodeID(2)], me: me, isDown: down.contains)
                == [NodeID(2)]
        )
        #expect(
            LeaderChoice.candidates(hint: nil, known: NodeID(1), others: [], me: me, isDown: down.contains) == [
                NodeID(1)
            ]
        )
    }
}
